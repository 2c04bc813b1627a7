/** Generated README sections: each is replaced between its markers by `npm run docs`; a test checks freshness. */
import { CONFIG_END, CONFIG_START, renderConfigReference } from '../config/docs.js';
import { renderMappingTable, TABLE_END, TABLE_START } from '../mapper/docs.js';
import { METRICS_END, METRICS_START, renderMetricsList } from '../server/ops/metrics-docs.js';

const SECTIONS: { start: string; end: string; render: () => string | Promise<string> }[] = [
  { start: TABLE_START, end: TABLE_END, render: renderMappingTable },
  { start: CONFIG_START, end: CONFIG_END, render: renderConfigReference },
  { start: METRICS_START, end: METRICS_END, render: renderMetricsList },
];

export async function withGeneratedSections(readme: string): Promise<string> {
  let text = readme;
  for (const section of SECTIONS) {
    const start = text.indexOf(section.start);
    const end = text.indexOf(section.end);
    if (start < 0 || end < start) throw new Error(`README: the generated section needs its markers ${section.start} … ${section.end}, in that order`);
    text = text.slice(0, start) + (await section.render()) + text.slice(end + section.end.length);
  }
  return text;
}
