/** Which view of a host the commands decide against: the live machine, or a facts snapshot. */
import { failure, success, type Result } from '../result.js';
import type { HostView } from '../host/view.js';
import { createLiveView } from '../host/live/live-view.js';
import type { HostOptions } from './host-options.js';

export function openHostView(opts: HostOptions): Result<HostView, string> {
  if (opts.facts !== undefined) return failure('--facts: offline snapshots are not supported yet');
  return success(createLiveView());
}
