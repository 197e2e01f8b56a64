// The report's data, read from the JSON `nas report` embedded in the page.
import { REPORT_VERSION, type ReportData } from '../../results/reportTypes.js';

export const DATA_ELEMENT_ID = 'nas-report-data';

function isReportData(v: unknown): v is ReportData {
  if (typeof v !== 'object' || v === null) return false;
  return 'version' in v && v.version === REPORT_VERSION && 'runs' in v && Array.isArray(v.runs);
}

/** The embedded data; an Error naming what is wrong when it is missing or of another version of nas. */
export function readReportData(doc: Document): ReportData {
  const text = doc.getElementById(DATA_ELEMENT_ID)?.textContent;
  if (text === undefined || text === null) throw new Error(`the page has no #${DATA_ELEMENT_ID} data`);
  const data: unknown = JSON.parse(text);
  if (!isReportData(data)) throw new Error(`the page's data is not a version ${REPORT_VERSION} report: write it again with this nas`);
  return data;
}
