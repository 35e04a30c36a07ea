import { verifyIndex, type VerifyReport } from '../verify-index.js';

export interface VerifyOutcome {
  readonly exitCode: number;
  readonly report: VerifyReport;
}

/**
 * What `silt verify <dir> --json` does, in this process (a campaign runs it
 * hundreds of times): `verifyIndex`, and the exit code the command gives
 * for its report (0 sound, 1 damaged). What it throws is thrown, as the
 * command would report it.
 */
export async function verifyInProcess(directory: string): Promise<VerifyOutcome> {
  const report = await verifyIndex(directory);
  return { exitCode: report.ok ? 0 : 1, report };
}
