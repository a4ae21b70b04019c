/**
 * Which runs a study needs, given the runs finished so far (pure: no files, no tensors).
 *
 * 1. Tuning: every method trains at each of its learning rates with the first seed; the rate with the lowest
 *    final validation MSE is chosen. With `extendLearningRates`, a grid whose best rate sits on its edge grows by a
 *    half-decade step (up to that many times), so the chosen rate is interior or the report says it is not.
 * 2. Tune groups: methods that share `tuneGroup` are alternatives (e.g. LFQ's entropy weight); the member with the
 *    lowest validation MSE at its chosen rate wins, and only the winner trains the other seeds.
 * 3. The other `seeds`, at the chosen rate.
 * 4. `extraSeeds`, once every (winning) method has all of `seeds`: only for the methods whose range of final
 *    validation MSE over `seeds` overlaps another method's range.
 */
import { halfDecade, type MethodSpec, type StudySpec } from './spec';

export interface Job { method: MethodSpec; seed: number; learningRate: number; tuning: boolean; id: string }
/** What planning reads of a finished run. */
export interface RunLike { id: string; learningRate: number; final: { valMse: number } }

export const jobId = (m: MethodSpec, lr: number, seed: number): string => `${m.id}-lr${lr}-s${seed}`;

/** A method's tuning rates so far: its declared grid, extended one half-decade step at a time (at most `study.extendLearningRates` steps) while the best finished rate is on the grid's edge. */
export function tuningRates(m: MethodSpec, study: StudySpec, runs: Map<string, RunLike>): number[] {
  const rates = [...m.learningRates].sort((a, b) => a - b);
  for (let i = 0; i < (study.extendLearningRates ?? 0) && rates.length > 1; i++) {
    const val = rates.map((lr) => runs.get(jobId(m, lr, study.seeds[0]))?.final.valMse ?? NaN);
    if (val.some(Number.isNaN)) break;
    const best = rates[val.indexOf(Math.min(...val))];
    if (best === rates[rates.length - 1]) rates.push(halfDecade(best, 1));
    else if (best === rates[0]) rates.unshift(halfDecade(best, -1));
    else break;
  }
  return rates;
}

/** The learning rate of `m` chosen on validation (the lowest final validation MSE among its tuning runs), or null until they are all done. */
export function chosenRate(m: MethodSpec, study: StudySpec, runs: Map<string, RunLike>): number | null {
  const rates = tuningRates(m, study, runs);
  if (rates.length === 1) return rates[0];
  const tuned = rates.map((lr) => runs.get(jobId(m, lr, study.seeds[0])));
  if (tuned.some((r) => !r)) return null;
  return tuned.reduce((a, b) => (b!.final.valMse < a!.final.valMse ? b : a))!.learningRate;
}

/** The tuning-seed run of `m` at its chosen rate, or null until it is decided and done. */
function tunedRun(m: MethodSpec, study: StudySpec, runs: Map<string, RunLike>): RunLike | null {
  const lr = chosenRate(m, study, runs);
  return lr === null ? null : runs.get(jobId(m, lr, study.seeds[0])) ?? null;
}

/** The id of the method of `group` with the lowest validation MSE at the tuning seed, or null until every member is tuned. */
export function groupWinner(group: string, study: StudySpec, runs: Map<string, RunLike>): string | null {
  const members = study.methods.filter((m) => m.tuneGroup === group);
  const tuned = members.map((m) => ({ m, r: tunedRun(m, study, runs) }));
  if (tuned.some((t) => t.r === null)) return null;
  return tuned.reduce((a, b) => (b.r!.final.valMse < a.r!.final.valMse ? b : a)).m.id;
}

/** Whether `m` trains beyond its tuning runs: true, false (it lost its tune group), or null (its group is undecided). */
export function isActive(m: MethodSpec, study: StudySpec, runs: Map<string, RunLike>): boolean | null {
  if (m.tuneGroup === undefined) return true;
  const w = groupWinner(m.tuneGroup, study, runs);
  return w === null ? null : w === m.id;
}

/**
 * The methods that get `extraSeeds`: those whose [min, max] of final validation MSE over `seeds` overlaps another
 * active method's. Null until every method is decided and every active one has all of `seeds`.
 */
export function needExtraSeeds(study: StudySpec, runs: Map<string, RunLike>): Set<string> | null {
  const ranges: { id: string; lo: number; hi: number }[] = [];
  for (const m of study.methods) {
    const active = isActive(m, study, runs);
    if (active === null) return null;
    if (!active) continue;
    const lr = chosenRate(m, study, runs);
    if (lr === null) return null;
    const vals = study.seeds.map((s) => runs.get(jobId(m, lr, s))?.final.valMse);
    if (vals.some((v) => v === undefined)) return null;
    ranges.push({ id: m.id, lo: Math.min(...(vals as number[])), hi: Math.max(...(vals as number[])) });
  }
  return new Set(ranges.filter((a) => ranges.some((b) => b !== a && a.lo <= b.hi && b.lo <= a.hi)).map((a) => a.id));
}

/** Every run the study needs that can be named now, and how many runs it will need in all as far as is known. */
export function planJobs(study: StudySpec, runs: Map<string, RunLike>): { jobs: Job[]; expected: number } {
  const jobs: Job[] = [];
  const extra = study.extraSeeds?.length ? needExtraSeeds(study, runs) : new Set<string>();
  let expected = 0;
  const groupsCounted = new Set<string>();
  for (const m of study.methods) {
    const rates = tuningRates(m, study, runs);
    for (const lr of rates) jobs.push({ method: m, seed: study.seeds[0], learningRate: lr, tuning: true, id: jobId(m, lr, study.seeds[0]) });
    expected += rates.length;
    // The other seeds: once per method, or once per tune group (whichever member wins).
    if (m.tuneGroup === undefined || !groupsCounted.has(m.tuneGroup)) {
      expected += study.seeds.length - 1;
      if (m.tuneGroup !== undefined) groupsCounted.add(m.tuneGroup);
    }
    const lr = chosenRate(m, study, runs);
    if (lr === null || isActive(m, study, runs) !== true) continue;
    const seeds = [...study.seeds.slice(1), ...(extra?.has(m.id) ? study.extraSeeds! : [])];
    for (const seed of seeds) jobs.push({ method: m, seed, learningRate: lr, tuning: false, id: jobId(m, lr, seed) });
    if (extra?.has(m.id)) expected += study.extraSeeds!.length;
  }
  // Finished runs the plan no longer names (the other seeds of a tune group's earlier winner, when a member added
  // later won the group) still count: they were trained.
  const named = new Set(jobs.map((j) => j.id));
  expected += [...runs.keys()].filter((id) => !named.has(id) && study.methods.some((m) => id.startsWith(`${m.id}-lr`))).length;
  return { jobs, expected };
}
