// The emulated kernel's public surface: everything labs, graders, benches and docs import.
// See API.md for the contract.
export * from './constants.ts';
export { FD_SETSIZE, SIZEOF, wakeupCost } from './cost-model.ts';
export type { CallCost, Mechanism } from './cost-model.ts';
export { WouldBlockError, FortifyAbort } from './errors.ts';
export { Kernel, DEFAULT_NOFILE, DEFAULT_RCVBUF, DEFAULT_SNDBUF } from './kernel.ts';
export type { KernelOptions, SpawnOptions, UntilOptions } from './kernel.ts';
export { Process } from './process.ts';
export type { Rlimit } from './fd-table.ts';
export { FdSet, FD_ZERO, FD_SET, FD_CLR, FD_ISSET } from './fdset.ts';
export type { PollFd } from './poll.ts';
export type { EpollEvent } from './epoll.ts';
export type { KEvent } from './kqueue.ts';
export { Meter } from './meter.ts';
export { SimClient, type ClientOptions, type Hostility } from './net/client.ts';
export { bridge, type Bridge, type BridgeOptions } from './net/bridge.ts';

