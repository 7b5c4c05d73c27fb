import type { DomainEvent, EventBus, EventHandler } from './event-bus.ts';

/** In-process bus: handlers run after publish returns, so a slow or failing subscriber never blocks or fails the publisher. */
export class MemoryEventBus implements EventBus {
  private readonly handlers = new Map<string, Set<EventHandler>>();

  constructor(private readonly onError: (e: unknown, event: DomainEvent) => void = () => {}) {}

  async publish(event: DomainEvent): Promise<void> {
    const targets = [...(this.handlers.get(event.topic) ?? []), ...(this.handlers.get('*') ?? [])];
    for (const h of targets) {
      setImmediate(() => {
        Promise.resolve()
          .then(() => h(event))
          .catch((e) => this.onError(e, event));
      });
    }
  }

  subscribe(topic: string, handler: EventHandler): () => void {
    let set = this.handlers.get(topic);
    if (!set) {
      set = new Set();
      this.handlers.set(topic, set);
    }
    set.add(handler);
    return () => set.delete(handler);
  }
}
