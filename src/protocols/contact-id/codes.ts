/**
 * Contact ID (SIA DC-05) event-code table: EEE → base category, description and what CCC designates.
 * Source: docs/contact-id.md §3. Qualifier handling lives in `qualifier.ts`.
 */

/** Category an event code has before its qualifier is applied (docs/contact-id.md §3 "Cat" column, spelled out). */
export type CidBaseCategory =
  'alarm' | 'supervisory' | 'trouble' | 'opening' | 'access' | 'bypass' | 'test' | 'system' | 'cancel' | 'unknown';

/** What CCC designates for a code (docs/contact-id.md §3 "CCC is" column). */
export type CidAddressKind = 'zone' | 'user';

export interface CidCodeInfo {
  /** EEE, upper-case. */
  readonly code: string;
  /** Q1 meaning. Open/close codes carry `opening` and become `closing` with Q3 (docs/contact-id.md §2). */
  readonly category: CidBaseCategory;
  /** True for docs/contact-id.md §3 "OC" codes: Q1 = opening (disarm), Q3 = closing (arm). */
  readonly openClose: boolean;
  readonly description: string;
  readonly address: CidAddressKind;
  /** False when the code is not in the table. */
  readonly known: boolean;
}

/** docs/contact-id.md §3 "Cat" keys. */
type TableCategoryKey = 'A' | 'SV' | 'T' | 'OC' | 'AC' | 'BY' | 'TS' | 'SY' | 'CN';

const BASE_CATEGORY_BY_KEY: Readonly<Record<TableCategoryKey, CidBaseCategory>> = {
  A: 'alarm',
  SV: 'supervisory',
  T: 'trouble',
  OC: 'opening',
  AC: 'access',
  BY: 'bypass',
  TS: 'test',
  SY: 'system',
  CN: 'cancel',
};

type TableRow = readonly [code: string, key: TableCategoryKey, description: string, address: CidAddressKind];

/**
 * docs/contact-id.md §3, one row per code. The ranges the reference gives as one row (141/142, 370–372,
 * 385–388, 520–527) are split using the individual DC-05 code names.
 */
const TABLE_ROWS: readonly TableRow[] = [
  // 100-series: medical, fire, panic, burglary, general and non-burglary alarms
  ['100', 'A', 'Medical', 'zone'],
  ['101', 'A', 'Personal emergency (pendant)', 'zone'],
  ['102', 'A', 'Fail to report in', 'zone'],
  ['110', 'A', 'Fire', 'zone'],
  ['111', 'A', 'Smoke', 'zone'],
  ['112', 'A', 'Combustion', 'zone'],
  ['113', 'A', 'Water flow', 'zone'],
  ['114', 'A', 'Heat', 'zone'],
  ['115', 'A', 'Pull station', 'zone'],
  ['116', 'A', 'Duct', 'zone'],
  ['117', 'A', 'Flame', 'zone'],
  ['118', 'A', 'Near alarm', 'zone'],
  ['120', 'A', 'Panic', 'zone'],
  ['121', 'A', 'Duress', 'user'],
  ['122', 'A', 'Silent panic', 'zone'],
  ['123', 'A', 'Audible panic', 'zone'],
  ['124', 'A', 'Duress – access granted', 'zone'],
  ['125', 'A', 'Duress – egress granted', 'zone'],
  ['130', 'A', 'Burglary', 'zone'],
  ['131', 'A', 'Perimeter', 'zone'],
  ['132', 'A', 'Interior', 'zone'],
  ['133', 'A', '24-hour (safe)', 'zone'],
  ['134', 'A', 'Entry/exit', 'zone'],
  ['135', 'A', 'Day/night', 'zone'],
  ['136', 'A', 'Outdoor', 'zone'],
  ['137', 'A', 'Tamper', 'zone'],
  ['138', 'A', 'Near alarm', 'zone'],
  ['139', 'A', 'Intrusion verifier (confirmed)', 'zone'],
  ['140', 'A', 'General alarm', 'zone'],
  ['141', 'T', 'Polling loop open', 'zone'],
  ['142', 'T', 'Polling loop short', 'zone'],
  ['143', 'T', 'Expansion module failure', 'zone'],
  ['144', 'A', 'Sensor tamper', 'zone'],
  ['145', 'A', 'Expansion module tamper', 'zone'],
  ['146', 'A', 'Silent burglary', 'zone'],
  ['147', 'T', 'Sensor supervision failure', 'zone'],
  ['150', 'A', '24-hour non-burglary', 'zone'],
  ['151', 'A', 'Gas detected', 'zone'],
  ['152', 'A', 'Refrigeration', 'zone'],
  ['153', 'A', 'Loss of heat', 'zone'],
  ['154', 'A', 'Water leakage', 'zone'],
  ['155', 'A', 'Foil break', 'zone'],
  ['156', 'T', 'Day trouble', 'zone'],
  ['157', 'A', 'Low bottled gas', 'zone'],
  ['158', 'A', 'High temperature', 'zone'],
  ['159', 'A', 'Low temperature', 'zone'],
  ['161', 'A', 'Loss of air flow', 'zone'],
  ['162', 'A', 'Carbon monoxide', 'zone'],
  ['163', 'A', 'Tank level', 'zone'],
  // 200-series: fire supervisory
  ['200', 'SV', 'Fire supervisory', 'zone'],
  ['201', 'SV', 'Low water pressure', 'zone'],
  ['202', 'SV', 'Low CO2', 'zone'],
  ['203', 'SV', 'Gate valve sensor', 'zone'],
  ['204', 'SV', 'Low water level', 'zone'],
  ['205', 'SV', 'Pump activated', 'zone'],
  ['206', 'SV', 'Pump failure', 'zone'],
  // 300-series: system, sounder, peripheral, communication and protection-loop troubles
  ['300', 'T', 'System trouble', 'zone'],
  ['301', 'T', 'AC loss', 'zone'],
  ['302', 'T', 'Low system battery', 'zone'],
  ['303', 'T', 'RAM checksum bad', 'zone'],
  ['304', 'T', 'ROM checksum bad', 'zone'],
  ['305', 'SY', 'System reset', 'zone'],
  ['306', 'SY', 'Panel programming changed', 'zone'],
  ['307', 'T', 'Self-test failure', 'zone'],
  ['308', 'T', 'System shutdown', 'zone'],
  ['309', 'T', 'Battery test failure', 'zone'],
  ['310', 'T', 'Ground fault', 'zone'],
  ['311', 'T', 'Battery missing/dead', 'zone'],
  ['312', 'T', 'Power supply overcurrent', 'zone'],
  ['313', 'SY', 'Engineer reset', 'user'],
  ['320', 'T', 'Sounder/relay', 'zone'],
  ['321', 'T', 'Bell 1', 'zone'],
  ['322', 'T', 'Bell 2', 'zone'],
  ['330', 'T', 'System peripheral trouble', 'zone'],
  ['333', 'T', 'Expansion module failure', 'zone'],
  ['337', 'T', 'Expansion module DC loss', 'zone'],
  ['338', 'T', 'Expansion module low battery', 'zone'],
  ['341', 'T', 'Expansion module tamper', 'zone'],
  ['342', 'T', 'Expansion module AC loss', 'zone'],
  ['344', 'T', 'RF receiver jam', 'zone'],
  ['350', 'T', 'Communication trouble', 'zone'],
  ['351', 'T', 'Telco 1 fault', 'zone'],
  ['352', 'T', 'Telco 2 fault', 'zone'],
  ['353', 'T', 'Long-range radio fault', 'zone'],
  ['354', 'T', 'Failure to communicate event', 'zone'],
  ['355', 'T', 'Loss of radio supervision', 'zone'],
  ['356', 'T', 'Loss of central polling', 'zone'],
  ['357', 'T', 'Long-range radio VSWR problem', 'zone'],
  ['358', 'T', 'Periodic communication test failure', 'zone'],
  // docs/contact-id.md §4 maps the whole 350–360 range to YC/YK (communication trouble/restore); 359 and 360 have no common name.
  ['359', 'T', 'Communication trouble', 'zone'],
  ['360', 'T', 'Communication trouble', 'zone'],
  ['370', 'T', 'Protection loop', 'zone'],
  ['371', 'T', 'Protection loop open', 'zone'],
  ['372', 'T', 'Protection loop short', 'zone'],
  ['373', 'T', 'Fire trouble', 'zone'],
  ['374', 'A', 'Exit error alarm (zone)', 'zone'],
  ['375', 'T', 'Panic zone trouble', 'zone'],
  ['376', 'T', 'Hold-up zone trouble', 'zone'],
  ['377', 'T', 'Swinger trouble', 'zone'],
  ['378', 'T', 'Cross-zone trouble', 'zone'],
  ['380', 'T', 'Sensor trouble', 'zone'],
  ['381', 'T', 'Loss of supervision – RF', 'zone'],
  ['382', 'T', 'Loss of supervision – RPM', 'zone'],
  ['383', 'T', 'Sensor tamper', 'zone'],
  ['384', 'T', 'RF low battery', 'zone'],
  ['385', 'T', 'Smoke detector high sensitivity', 'zone'],
  ['386', 'T', 'Smoke detector low sensitivity', 'zone'],
  ['387', 'T', 'Intrusion detector high sensitivity', 'zone'],
  ['388', 'T', 'Intrusion detector low sensitivity', 'zone'],
  ['389', 'T', 'Sensor self-test failure', 'zone'],
  ['391', 'T', 'Sensor watch trouble', 'zone'],
  ['393', 'T', 'Maintenance alert (clean me)', 'zone'],
  // 400-series: open/close, remote access, access control, arming exceptions
  ['400', 'OC', 'Open/close', 'user'],
  ['401', 'OC', 'Open/close by user', 'user'],
  ['402', 'OC', 'Group open/close', 'user'],
  ['403', 'OC', 'Automatic open/close', 'user'],
  // docs/contact-id.md §3 files 406 under OC, but a cancel is not a disarm: panels send 1406 next to their 1401 opening, so
  // treating it as an opening would report the disarm twice. Kept as its own `cancel` category.
  ['406', 'CN', 'Cancel (alarm aborted by user)', 'user'],
  ['407', 'OC', 'Remote arm/disarm', 'user'],
  ['408', 'OC', 'Quick arm', 'user'],
  ['409', 'OC', 'Keyswitch open/close', 'zone'],
  ['411', 'SY', 'Callback request', 'user'],
  ['412', 'SY', 'Successful download/access', 'user'],
  ['413', 'SY', 'Unsuccessful access', 'user'],
  ['414', 'SY', 'System shutdown command', 'user'],
  ['421', 'AC', 'Access denied', 'user'],
  ['422', 'AC', 'Access by user', 'user'],
  ['423', 'AC', 'Forced access', 'zone'],
  ['441', 'OC', 'Armed stay', 'user'],
  ['442', 'OC', 'Keyswitch armed stay', 'zone'],
  ['450', 'OC', 'Exception open/close', 'user'],
  ['451', 'OC', 'Early open/close', 'user'],
  ['452', 'OC', 'Late open/close', 'user'],
  ['453', 'T', 'Failed to open', 'user'],
  ['454', 'T', 'Failed to close', 'user'],
  ['455', 'T', 'Auto-arm failed', 'user'],
  ['456', 'OC', 'Partial arm', 'user'],
  ['457', 'T', 'Exit error (user)', 'user'],
  ['458', 'OC', 'User on premises', 'user'],
  ['459', 'A', 'Recent close', 'user'],
  ['461', 'A', 'Wrong code entry', 'zone'],
  ['462', 'SY', 'Legal code entry', 'user'],
  ['463', 'OC', 'Re-arm after alarm', 'user'],
  ['464', 'SY', 'Auto-arm time extended', 'user'],
  ['466', 'SY', 'Service on/off premises', 'user'],
  // 500-series: disables and bypasses
  ['501', 'BY', 'Access reader disable', 'zone'],
  ['520', 'BY', 'Sounder/relay disabled', 'zone'],
  ['521', 'BY', 'Bell 1 disabled', 'zone'],
  ['522', 'BY', 'Bell 2 disabled', 'zone'],
  ['523', 'BY', 'Alarm relay disabled', 'zone'],
  ['524', 'BY', 'Trouble relay disabled', 'zone'],
  ['525', 'BY', 'Reversing relay disabled', 'zone'],
  ['526', 'BY', 'Notification appliance circuit 3 disabled', 'zone'],
  ['527', 'BY', 'Notification appliance circuit 4 disabled', 'zone'],
  ['551', 'BY', 'Dialer disabled', 'zone'],
  ['552', 'BY', 'Radio transmitter disabled', 'zone'],
  ['570', 'BY', 'Zone/sensor bypass', 'zone'],
  ['571', 'BY', 'Fire bypass', 'zone'],
  ['572', 'BY', '24-hour zone bypass', 'zone'],
  ['573', 'BY', 'Burglary bypass', 'zone'],
  ['574', 'BY', 'Group bypass', 'user'],
  ['575', 'BY', 'Swinger bypass', 'zone'],
  // 600-series: tests and miscellaneous
  ['601', 'TS', 'Manual test', 'zone'],
  ['602', 'TS', 'Periodic test', 'zone'],
  ['603', 'TS', 'Periodic RF transmission', 'zone'],
  ['604', 'TS', 'Fire test', 'user'],
  ['605', 'TS', 'Status report to follow', 'zone'],
  ['606', 'SY', 'Listen-in to follow', 'zone'],
  ['607', 'TS', 'Walk-test mode', 'user'],
  ['608', 'TS', 'Periodic test, trouble present', 'zone'],
  ['609', 'SY', 'Video transmitter active', 'zone'],
  ['611', 'TS', 'Point tested OK', 'zone'],
  ['612', 'TS', 'Point not tested', 'zone'],
  ['621', 'SY', 'Event log reset', 'zone'],
  ['622', 'SY', 'Event log 50 %', 'zone'],
  ['623', 'SY', 'Event log 90 %', 'zone'],
  ['624', 'SY', 'Event log overflow', 'zone'],
  ['625', 'SY', 'Time/date reset', 'user'],
  ['626', 'T', 'Time/date inaccurate', 'zone'],
  ['627', 'SY', 'Program mode entry', 'zone'],
  ['628', 'SY', 'Program mode exit', 'zone'],
  ['654', 'SV', 'System inactivity', 'zone'],
  // Vendor extension, docs/contact-id.md §3 footnote: Trikdis sends E770 as its PING. Trikdis 700/712/713 and
  // Eldes 900 are named there without a meaning, so they stay unknown and are passed on raw.
  ['770', 'TS', 'Communicator PING (Trikdis link check)', 'zone'],
];

function toCodeInfo([code, key, description, address]: TableRow): CidCodeInfo {
  return { code, category: BASE_CATEGORY_BY_KEY[key], openClose: key === 'OC', description, address, known: true };
}

/** Every known code, keyed by upper-case EEE. */
export const CID_CODES: ReadonlyMap<string, CidCodeInfo> = new Map(TABLE_ROWS.map((row) => [row[0], toCodeInfo(row)] as const));

/** Looks EEE up (case-insensitive); unknown codes come back as category `unknown`, address `zone`. */
export function lookupCidCode(code: string): CidCodeInfo {
  const normalised = code.toUpperCase();
  return (
    CID_CODES.get(normalised) ?? {
      code: normalised,
      category: 'unknown',
      openClose: false,
      description: `Unknown Contact ID code ${normalised}`,
      address: 'zone',
      known: false,
    }
  );
}
