/** A domain event: what happened, in which project, with a small JSON payload. */
export interface DomainEvent {
  topic: string;
  projectId: string;
  payload: Record<string, unknown>;
  at: number;
}

export type EventHandler = (event: DomainEvent) => void | Promise<void>;

/**
 * Domain events between modules (a new dataset version, a monitoring alert). Delivery is
 * at-most-once in process; subscribers must not assume they see every event after a restart.
 */
export interface EventBus {
  publish(event: DomainEvent): Promise<void>;
  /** Subscribes to one topic, or `*` for all; returns the unsubscribe function. */
  subscribe(topic: string, handler: EventHandler): () => void;
}
