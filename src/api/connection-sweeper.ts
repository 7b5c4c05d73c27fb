import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Closes the connections that would otherwise hold a graceful shutdown open: idle keep-alive
 * ones (Node's closeIdleConnections), and ones opened without a request ever arriving on them,
 * which Node does not count as idle and would keep until headersTimeout (a minute): a client
 * pool's spare connection, a load balancer's TCP probe. Connections with a request in progress
 * are left to finish.
 */
export function connectionSweeper(server: Server): { sweep: () => void } {
  const open = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  return {
    sweep() {
      server.closeIdleConnections();
      for (const socket of open) if (socket.bytesRead === 0) socket.destroy();
    },
  };
}
