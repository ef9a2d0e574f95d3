// What every stage server (labs/NN-name/server.ts, stages 01–05) receives from whoever runs it:
// the graders, `npm run lab`, the benches. One shape so every stage can be driven the same way.
import type { Process } from '#kernel/index.ts';

export interface ServerOptions {
  /** Port to listen on in the emulated kernel. */
  port: number;
  /** Aborts when the server should stop: it then closes every fd it opened and resolves. */
  signal: AbortSignal;
  /** Bound of one connection's outbound queue; a peer that lets more pile up is disconnected. */
  maxOutboundBytes?: number;
}

/** 256 KiB: a few hundred chat frames behind — far more than a healthy reader ever lags. */
export const DEFAULT_MAX_OUTBOUND_BYTES = 256 * 1024;

/** The signature every stage server exports. */
export type RunServer = (proc: Process, options: ServerOptions) => Promise<void>;
