import type { RunView } from './search/index.ts';
import type { Run } from './tracking-types.ts';

/** What a filter or an order key sees of a run: attributes by their filter names, and its values by key. */
export function runView(run: Run, metrics: Map<string, number>, params: Map<string, string>, tags: Map<string, string>): RunView {
  return {
    attributes: {
      id: run.id,
      name: run.name,
      status: run.status,
      start_time: run.startTime,
      end_time: run.endTime,
      experiment_id: run.experimentId,
      created_by: run.createdBy,
      code_version: run.codeVersion,
      parent_run_id: run.parentRunId,
    },
    metrics,
    params,
    tags,
  };
}
