/** Generated README sections: each is replaced between its markers by `npm run docs`; a test checks freshness. */
import { CONFIG_END, CONFIG_START, renderConfigReference } from '../config/docs.js';
import { renderMappingTable, TABLE_END, TABLE_START } from '../mapper/docs.js';

const SECTIONS = [
  { start: TABLE_START, end: TABLE_END, render: renderMappingTable },
  { start: CONFIG_START, end: CONFIG_END, render: renderConfigReference },
];

export function withGeneratedSections(readme: string): string {
  let text = readme;
  for (const section of SECTIONS) {
    const start = text.indexOf(section.start);
    const end = text.indexOf(section.end);
    if (start < 0 || end < start) continue;
    text = text.slice(0, start) + section.render() + text.slice(end + section.end.length);
  }
  return text;
}
