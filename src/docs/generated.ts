/** Generated documentation: each section is replaced between its markers by `npm run docs`; a test checks freshness. */
import { CONFIG_END, CONFIG_START, renderConfigReference } from '../config/docs.js';
import { renderMappingTable, TABLE_END, TABLE_START } from '../mapper/docs.js';
import { METRICS_END, METRICS_START, renderMetricsList } from '../server/ops/metrics-docs.js';

export interface GeneratedSection {
  start: string;
  end: string;
  render: () => string | Promise<string>;
}

/** The files under docs/ that hold generated sections (paths relative to the repository root). */
export const GENERATED_FILES: readonly { file: string; sections: readonly GeneratedSection[] }[] = [
  { file: 'docs/configuration.md', sections: [{ start: CONFIG_START, end: CONFIG_END, render: renderConfigReference }] },
  { file: 'docs/mapping.md', sections: [{ start: TABLE_START, end: TABLE_END, render: renderMappingTable }] },
  { file: 'docs/metrics.md', sections: [{ start: METRICS_START, end: METRICS_END, render: renderMetricsList }] },
];

/** `text` (the content of `file`) with its generated sections rendered afresh. */
export async function withGeneratedSections(file: string, text: string, sections: readonly GeneratedSection[]): Promise<string> {
  let out = text;
  for (const section of sections) {
    const start = out.indexOf(section.start);
    const end = out.indexOf(section.end);
    if (start < 0 || end < start)
      throw new Error(`${file}: the generated section needs its markers ${section.start} … ${section.end}, in that order`);
    out = out.slice(0, start) + (await section.render()) + out.slice(end + section.end.length);
  }
  return out;
}
