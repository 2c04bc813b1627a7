/** What the status server and the pages it serves share: readiness checks, outbox actions, the console's routes. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface ReadinessCheck {
  ok: boolean;
  /** Working, but something was lost or is impaired (`/readyz` answers 200 with status "degraded"). */
  degraded?: boolean;
  detail?: string;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, ReadinessCheck>;
}

/** An outbox action: the request's JSON body in (undefined when empty), the status and JSON body to answer. */
export type OutboxAction = (request: unknown) => Promise<{ status: number; body: unknown }>;

export interface ConsoleRoutes {
  /** Answers the request when the path is the console's; false otherwise (the caller answers). */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
  /** Ends the live streams (the server closes after this). */
  close(): void;
}
