/**
 * SIA DC-03 event-code table (docs/sia-dcs.md §3, its Ajax additions, explicit rows for the
 * zone-type naming pattern of docs/sia-dcs.md §2, and the rest of the fuller DC-03 list that docs/sia-dcs.md §3 names as the lookup
 * source). Lookup only: codes that are not rows here are unknown to the decoder.
 */
import type { AddressKind, EventCategory } from '../events.js';

export interface SiaCodeInfo {
  category: EventCategory;
  description: string;
  /** What the address after the code designates. */
  address: AddressKind;
}

/** docs/sia-dcs.md §3 "Cat" column keys. */
const CATEGORY_BY_KEY = {
  A: 'alarm',
  AR: 'alarm-restore',
  T: 'trouble',
  TR: 'trouble-restore',
  SV: 'supervisory',
  BY: 'bypass',
  UB: 'unbypass',
  OP: 'opening',
  CL: 'closing',
  TS: 'test',
  AC: 'access',
  SY: 'system',
  CN: 'cancel',
  /** Not a docs/sia-dcs.md §3 key: used by the fuller DC-03 list below (supervisory conditions that end). */
  SVR: 'supervisory-restore',
} as const satisfies Record<string, EventCategory>;

/**
 * docs/sia-dcs.md §3 "Addr" column keys; `DEV` stands for the device / receiver / point / network entries,
 * `-` for an unused address.
 */
const ADDRESS_BY_KEY = {
  Z: 'zone',
  U: 'user',
  A: 'area',
  D: 'door',
  L: 'line',
  DEV: 'device',
  '-': 'none',
} as const satisfies Record<string, AddressKind>;

type CategoryKey = keyof typeof CATEGORY_BY_KEY;
type AddressKey = keyof typeof ADDRESS_BY_KEY;
type CodeRow = readonly [code: string, category: CategoryKey, address: AddressKey, description: string];

/** docs/sia-dcs.md §3, in the order of the reference table. */
const COMMON_CODES: readonly CodeRow[] = [
  ['BA', 'A', 'Z', 'Burglary alarm'],
  ['BB', 'BY', 'Z', 'Burglary bypass'],
  ['BC', 'CN', 'U', 'Burglary cancel (by user)'],
  ['BG', 'A', 'Z', 'Burglary unverified (cross-point not confirmed)'],
  ['BH', 'AR', 'Z', 'Burglary alarm restore'],
  ['BJ', 'TR', 'Z', 'Burglary trouble restore'],
  ['BM', 'A', 'Z', 'Burglary alarm, cross-point confirmed'],
  ['BR', 'AR', 'Z', 'Burglary restoral'],
  ['BS', 'SV', 'Z', 'Burglary supervisory'],
  ['BT', 'T', 'Z', 'Burglary trouble'],
  ['BU', 'UB', 'Z', 'Burglary unbypass'],
  ['BV', 'A', 'A', 'Burglary verified (confirmed alarm)'],
  ['BX', 'TS', 'Z', 'Burglary test'],
  ['FA', 'A', 'Z', 'Fire alarm'],
  ['FB', 'BY', 'Z', 'Fire bypass'],
  ['FC', 'CN', 'Z', 'Fire cancel'],
  ['FH', 'AR', 'Z', 'Fire alarm restore'],
  ['FI', 'TS', 'A', 'Fire test begin'],
  ['FJ', 'TR', 'Z', 'Fire trouble restore'],
  ['FK', 'TS', 'A', 'Fire test end'],
  ['FR', 'AR', 'Z', 'Fire restoral'],
  ['FS', 'SV', 'Z', 'Fire supervisory'],
  ['FT', 'T', 'Z', 'Fire trouble'],
  ['FU', 'UB', 'Z', 'Fire unbypass'],
  ['FX', 'TS', 'Z', 'Fire test'],
  ['GA', 'A', 'Z', 'Gas alarm'],
  ['GH', 'AR', 'Z', 'Gas alarm restore'],
  ['GR', 'AR', 'Z', 'Gas restoral'],
  ['GT', 'T', 'Z', 'Gas trouble'],
  ['GJ', 'TR', 'Z', 'Gas trouble restore'],
  ['HA', 'A', 'Z', 'Hold-up (duress/silent) alarm'],
  ['HH', 'AR', 'Z', 'Hold-up alarm restore'],
  ['HR', 'AR', 'Z', 'Hold-up restoral'],
  ['HT', 'T', 'Z', 'Hold-up trouble'],
  ['KA', 'A', 'Z', 'Heat alarm'],
  ['KH', 'AR', 'Z', 'Heat alarm restore'],
  ['KR', 'AR', 'Z', 'Heat restoral'],
  ['KT', 'T', 'Z', 'Heat trouble'],
  ['MA', 'A', 'Z', 'Medical alarm'],
  ['MH', 'AR', 'Z', 'Medical alarm restore'],
  ['MR', 'AR', 'Z', 'Medical restoral'],
  ['PA', 'A', 'Z', 'Panic alarm'],
  ['PH', 'AR', 'Z', 'Panic alarm restore'],
  ['PR', 'AR', 'Z', 'Panic restoral'],
  ['PT', 'T', 'Z', 'Panic trouble'],
  ['QA', 'A', 'Z', 'Emergency alarm'],
  ['QR', 'AR', 'Z', 'Emergency restoral'],
  ['SA', 'A', 'Z', 'Sprinkler alarm'],
  ['SR', 'AR', 'Z', 'Sprinkler restoral'],
  ['ST', 'T', 'Z', 'Sprinkler trouble'],
  ['TA', 'A', 'Z', 'Tamper alarm'],
  ['TR', 'AR', 'Z', 'Tamper restoral'],
  ['TT', 'T', 'Z', 'Tamper trouble (disarmed)'],
  ['TH', 'AR', '-', 'Tamper alarm restore'],
  ['UA', 'A', 'Z', 'Untyped zone alarm'],
  ['UR', 'AR', 'Z', 'Untyped zone restoral'],
  ['UT', 'T', 'Z', 'Untyped zone trouble'],
  ['WA', 'A', 'Z', 'Water alarm (leak)'],
  ['WH', 'AR', 'Z', 'Water alarm restore'],
  ['WR', 'AR', 'Z', 'Water restoral'],
  ['WT', 'T', 'Z', 'Water trouble'],
  ['ZA', 'A', 'Z', 'Freeze alarm'],
  ['ZR', 'AR', 'Z', 'Freeze restoral'],
  ['CA', 'CL', 'A', 'Automatic closing (armed by schedule)'],
  ['CE', 'SY', 'U', 'Closing extend'],
  ['CF', 'CL', 'U', 'Forced closing (armed with zones not ready)'],
  ['CG', 'CL', 'A', 'Close area (partial / group arm)'],
  ['CI', 'T', 'A', 'Fail to close'],
  ['CJ', 'CL', 'U', 'Late close'],
  ['CK', 'CL', 'U', 'Early close'],
  ['CL', 'CL', 'U', 'Closing report (armed by user)'],
  ['CP', 'CL', 'U', 'Automatic closing'],
  ['CQ', 'CL', 'U', 'Remote closing (armed remotely)'],
  ['CR', 'A', 'U', 'Recent closing (alarm soon after arming)'],
  ['CS', 'CL', 'Z', 'Closing keyswitch'],
  ['CT', 'T', 'A', 'Late to open'],
  ['CW', 'CL', 'A', 'Was force armed'],
  ['NL', 'CL', 'A', 'Perimeter (night/stay) armed'],
  ['NF', 'CL', 'A', 'Forced perimeter arm'],
  ['NP', 'OP', 'Z', 'Night mode off via device (Ajax)'],
  ['OA', 'OP', 'A', 'Automatic opening'],
  ['OC', 'CN', 'U', 'Cancel report'],
  ['OG', 'OP', 'A', 'Open area (partial disarm)'],
  ['OI', 'T', 'A', 'Fail to open'],
  ['OJ', 'OP', 'U', 'Late open'],
  ['OK', 'OP', 'U', 'Early open'],
  ['OP', 'OP', 'U', 'Opening report (disarmed by user)'],
  ['OQ', 'OP', 'U', 'Remote opening'],
  ['OR', 'OP', 'U', 'Disarm from alarm'],
  ['OS', 'OP', 'Z', 'Opening keyswitch'],
  ['OT', 'T', 'U', 'Late to close'],
  ['AT', 'T', '-', 'AC power trouble (mains lost)'],
  ['AR', 'TR', '-', 'AC power restoral'],
  ['YT', 'T', '-', 'System battery trouble (low)'],
  ['YR', 'TR', '-', 'System battery restoral'],
  ['YM', 'T', '-', 'System battery missing'],
  ['YP', 'T', '-', 'Power supply trouble'],
  ['YQ', 'TR', '-', 'Power supply restored'],
  ['YA', 'T', '-', 'Bell / siren fault'],
  ['YH', 'TR', '-', 'Bell restored'],
  ['YC', 'T', '-', 'Communications fail'],
  ['YK', 'TR', '-', 'Communications restoral'],
  ['YS', 'T', '-', 'Communications trouble'],
  ['YX', 'T', '-', 'Service required'],
  ['YZ', 'TR', '-', 'Service completed'],
  ['YG', 'SY', '-', 'Parameters changed'],
  ['YW', 'SY', '-', 'Watchdog reset'],
  ['YF', 'T', '-', 'Parameter checksum fail'],
  ['XT', 'T', 'Z', 'Transmitter (sensor) battery low'],
  ['XR', 'TR', 'Z', 'Transmitter battery restoral'],
  // docs/sia-dcs.md §3 gives "receiver/Z": Ajax reports the device's zone number here, so zone is the more useful label.
  ['XL', 'T', 'Z', 'Low signal / connection lost (RF)'],
  ['XQ', 'T', 'DEV', 'RF interference (jamming)'],
  ['XH', 'TR', 'DEV', 'RF interference restoral'],
  ['XS', 'T', 'DEV', 'RF receiver tamper'],
  ['XC', 'TR', 'Z', 'Malfunction restore / device back (Ajax)'],
  ['ET', 'T', 'DEV', 'Expansion device trouble'],
  ['ER', 'TR', 'DEV', 'Expansion device restoral'],
  ['ES', 'T', 'DEV', 'Expansion device tamper'],
  ['EJ', 'TR', 'DEV', 'Expansion tamper restore'],
  ['EM', 'T', 'DEV', 'Expansion device missing'],
  ['EN', 'TR', 'DEV', 'Expansion device back'],
  ['LT', 'T', 'L', 'Phone line trouble'],
  ['LR', 'TR', 'L', 'Phone line restoral'],
  ['NT', 'T', 'DEV', 'Network failure'],
  ['NR', 'TR', 'DEV', 'Network restoral'],
  ['RP', 'TS', '-', 'Automatic (periodic) test'],
  ['RX', 'TS', 'U', 'Manual test'],
  ['RY', 'TS', 'Z', 'Test with abnormal condition'],
  ['TX', 'TS', '-', 'Test report (unspecified)'],
  ['TS', 'TS', '-', 'Test start (communicator out of service)'],
  ['TE', 'TS', '-', 'Test end'],
  ['RR', 'SY', '-', 'Power up (system restarted)'],
  ['RB', 'SY', '-', 'Remote programming begin'],
  ['RS', 'SY', '-', 'Remote programming success'],
  ['LB', 'SY', '-', 'Local programming begin'],
  ['LX', 'SY', '-', 'Local programming ended'],
  ['JA', 'A', 'A', 'User code tamper (too many wrong codes)'],
  ['JC', 'SY', 'A', 'User code tamper cancelled'],
  ['JT', 'SY', 'U', 'Time changed'],
  ['JD', 'SY', 'U', 'Date changed'],
  ['JL', 'SY', '-', 'Log threshold reached'],
  ['JO', 'SY', '-', 'Log overflow'],
  ['JV', 'SY', 'U', 'User code changed'],
  ['JX', 'SY', 'U', 'User code deleted'],
  ['JY', 'SY', 'U', 'User code added'],
  ['DD', 'AC', 'D', 'Access denied'],
  ['DF', 'A', 'D', 'Door forced'],
  ['DG', 'AC', 'D', 'Access granted'],
  ['DK', 'AC', 'D', 'Access lockout'],
  ['DL', 'A', 'D', 'Door left open (alarm)'],
  ['DM', 'T', 'D', 'Door left open (trouble)'],
  ['DR', 'AR', 'D', 'Door restoral'],
  ['EA', 'A', 'Z', 'Exit alarm (exit zone open at end of delay)'],
  ['EE', 'T', 'U', 'Exit error'],
  ['IA', 'T', 'DEV', 'Equipment failure'],
  ['IR', 'TR', 'DEV', 'Equipment failure restoral'],
  ['NA', 'SV', 'Z', 'No activity'],
  ['UX', 'A', '-', 'Undefined alarm'],
  ['YN', 'SY', '-', 'Invalid report (unmapped Contact ID event)'],
];

/**
 * Ajax additions listed after docs/sia-dcs.md §3. The reference names them without category or address, so
 * these are choices:
 * - photo-on-demand / photo-by-scenario switches are system events about the user who toggled them
 *   (field traffic `Nri1/PE501` carries a user-range number);
 * - photo channel lost / restored and LeakProtect malfunction are device troubles on the device's zone;
 * - ZY / ZZ (device switched on / off) are system events about a device;
 * - arming-scenario events: a successful arming (AF by a device scenario, CB / NB group or night mode armed
 *   automatically) is a closing, a disarming (OB group, ND under duress, NO automatically) is an opening,
 *   and an unsuccessful arming attempt (CC, NE) is a trouble, like "fail to close" CI in docs/sia-dcs.md §3, so that a
 *   failed attempt is never reported as armed.
 */
const AJAX_CODES: readonly CodeRow[] = [
  ['PC', 'SY', 'U', 'Photo on demand enabled (Ajax)'],
  ['PD', 'SY', 'U', 'Photo on demand disabled (Ajax)'],
  ['PE', 'SY', 'U', 'Photo by scenario enabled (Ajax)'],
  ['PG', 'SY', 'U', 'Photo by scenario disabled (Ajax)'],
  ['PF', 'T', 'Z', 'Photo channel lost (Ajax)'],
  ['PO', 'TR', 'Z', 'Photo channel restored (Ajax)'],
  ['SM', 'T', 'Z', 'LeakProtect malfunction (Ajax)'],
  ['ZY', 'SY', 'DEV', 'Device switched on (Ajax)'],
  ['ZZ', 'SY', 'DEV', 'Device switched off (Ajax)'],
  ['AF', 'CL', 'Z', 'Armed by device scenario (Ajax)'],
  ['CB', 'CL', 'A', 'Group armed automatically (Ajax)'],
  ['CC', 'T', 'A', 'Arming attempt failed (Ajax)'],
  ['NB', 'CL', 'A', 'Night mode armed by scenario (Ajax)'],
  ['ND', 'OP', 'A', 'Night mode disarmed under duress (Ajax)'],
  ['NE', 'T', 'A', 'Night mode arming attempt failed (Ajax)'],
  ['NO', 'OP', 'A', 'Night mode disarmed automatically (Ajax)'],
  ['OB', 'OP', 'A', 'Group disarmed automatically (Ajax)'],
];

/**
 * docs/sia-dcs.md §2 naming pattern, written out only where docs/sia-dcs.md §3 has no row and the meaning is the plain
 * pattern one (zone type + A/H/R/T/J/S/B/U; X = test only for B/F/G; M / G cross-point forms for F/U).
 * TJ follows TH in docs/sia-dcs.md §3 (expansion-device tamper, no address).
 */
const ZONE_PATTERN_CODES: readonly CodeRow[] = [
  ['FG', 'A', 'Z', 'Fire unverified (cross-point not confirmed)'],
  ['FM', 'A', 'Z', 'Fire alarm, cross-point confirmed'],
  ['GB', 'BY', 'Z', 'Gas bypass'],
  ['GS', 'SV', 'Z', 'Gas supervisory'],
  ['GU', 'UB', 'Z', 'Gas unbypass'],
  ['GX', 'TS', 'Z', 'Gas test'],
  ['HB', 'BY', 'Z', 'Hold-up bypass'],
  ['HJ', 'TR', 'Z', 'Hold-up trouble restore'],
  ['HS', 'SV', 'Z', 'Hold-up supervisory'],
  ['HU', 'UB', 'Z', 'Hold-up unbypass'],
  ['KB', 'BY', 'Z', 'Heat bypass'],
  ['KJ', 'TR', 'Z', 'Heat trouble restore'],
  ['KS', 'SV', 'Z', 'Heat supervisory'],
  ['KU', 'UB', 'Z', 'Heat unbypass'],
  ['MB', 'BY', 'Z', 'Medical bypass'],
  ['MJ', 'TR', 'Z', 'Medical trouble restore'],
  ['MS', 'SV', 'Z', 'Medical supervisory'],
  ['MT', 'T', 'Z', 'Medical trouble'],
  ['MU', 'UB', 'Z', 'Medical unbypass'],
  ['PB', 'BY', 'Z', 'Panic bypass'],
  ['PJ', 'TR', 'Z', 'Panic trouble restore'],
  ['PS', 'SV', 'Z', 'Panic supervisory'],
  ['PU', 'UB', 'Z', 'Panic unbypass'],
  ['QB', 'BY', 'Z', 'Emergency bypass'],
  ['QH', 'AR', 'Z', 'Emergency alarm restore'],
  ['QJ', 'TR', 'Z', 'Emergency trouble restore'],
  ['QS', 'SV', 'Z', 'Emergency supervisory'],
  ['QT', 'T', 'Z', 'Emergency trouble'],
  ['QU', 'UB', 'Z', 'Emergency unbypass'],
  ['SB', 'BY', 'Z', 'Sprinkler bypass'],
  ['SH', 'AR', 'Z', 'Sprinkler alarm restore'],
  ['SJ', 'TR', 'Z', 'Sprinkler trouble restore'],
  ['SS', 'SV', 'Z', 'Sprinkler supervisory'],
  ['SU', 'UB', 'Z', 'Sprinkler unbypass'],
  ['TB', 'BY', 'Z', 'Tamper bypass'],
  ['TJ', 'TR', '-', 'Tamper trouble restore'],
  ['TU', 'UB', 'Z', 'Tamper unbypass'],
  ['UB', 'BY', 'Z', 'Untyped zone bypass'],
  ['UG', 'A', 'Z', 'Untyped zone unverified (cross-point not confirmed)'],
  ['UH', 'AR', 'Z', 'Untyped zone alarm restore'],
  ['UJ', 'TR', 'Z', 'Untyped zone trouble restore'],
  ['US', 'SV', 'Z', 'Untyped zone supervisory'],
  ['UU', 'UB', 'Z', 'Untyped zone unbypass'],
  ['WB', 'BY', 'Z', 'Water bypass'],
  ['WJ', 'TR', 'Z', 'Water trouble restore'],
  ['WS', 'SV', 'Z', 'Water supervisory'],
  ['WU', 'UB', 'Z', 'Water unbypass'],
  ['ZB', 'BY', 'Z', 'Freeze bypass'],
  ['ZH', 'AR', 'Z', 'Freeze alarm restore'],
  ['ZJ', 'TR', 'Z', 'Freeze trouble restore'],
  ['ZS', 'SV', 'Z', 'Freeze supervisory'],
  ['ZT', 'T', 'Z', 'Freeze trouble'],
  ['ZU', 'UB', 'Z', 'Freeze unbypass'],
];

/**
 * The rest of the fuller DC-03 list that docs/sia-dcs.md §3 (last paragraph) points to as the lookup source
 * (pysiaalarm's `data/sia_codes.py`, 325 codes): every code of that list that no group above has. Categories
 * are choices made from each code's meaning; the address follows the list's "concerns" field (zone or point →
 * Z, user → U, area → A, door → D, unused → `-`, line number → L as for LT / LR, zone number → Z as for NA,
 * anything else: point, device, network, relay, output, printer, line card, condition… → DEV).
 * - point closing / opening (CZ / OZ) and the perimeter variant NM are closings / openings like CL / OP / NL;
 *   disarming from alarm early or late (OH / OL) is an opening like OR;
 * - schedule exceptions that need attention (CD closing delinquent, JK latchkey alert) are troubles like CI / CT;
 * - "missing" points: a missing alarm (CM, EZ, UZ, XM) is an alarm, a missing trouble (FY, UY) a trouble, a
 *   missing supervisory point (BZ, FZ) supervisory;
 * - door restoral after "door left open" (DH) is an alarm restore like DR; a door forced in a disarmed area
 *   (DJ) is a trouble like DM; other door / credential events are access events;
 * - "condition" reports on a device or network (EX, NC) are troubles like IA; state changes, relays, commands,
 *   programming sessions, listen-in, schedules and headers are system events;
 * - a point forced out when arming (XW) is a bypass.
 */
const DC03_CODES: readonly CodeRow[] = [
  ['AA', 'A', 'DEV', 'Panel substitution attempt'],
  ['AB', 'CN', 'Z', 'Abort (report withheld by user action)'],
  ['AN', 'TR', 'Z', 'Analog fire sensor back to normal'],
  ['AS', 'T', 'Z', 'Analog fire sensor needs service (cleaning / calibration)'],
  ['BD', 'T', 'Z', 'Swinger trouble (non-fire zone tripped after swinger shutdown)'],
  ['BE', 'TR', 'Z', 'Swinger trouble restore'],
  ['BZ', 'SV', 'Z', 'Missing supervision (non-fire supervisory point)'],
  ['CD', 'T', 'A', 'Closing delinquent (not armed for the programmed time)'],
  ['CM', 'A', 'Z', 'Missing alarm shortly after closing'],
  ['CO', 'SY', 'DEV', 'Command sent to expansion / peripheral device'],
  ['CX', 'SY', 'DEV', 'Custom function executed'],
  ['CZ', 'CL', 'Z', 'Point closing (single point armed)'],
  ['DA', 'SY', 'U', 'Access card assigned'],
  ['DB', 'SY', 'U', 'Access card deleted'],
  ['DC', 'AC', 'D', 'Access closed (door locked to all users)'],
  ['DE', 'AC', 'D', 'Request to enter'],
  ['DH', 'AR', 'D', 'Door left open restoral'],
  ['DI', 'AC', 'D', 'Access denied (passback)'],
  ['DJ', 'T', 'D', 'Door forced (trouble, area disarmed)'],
  ['DN', 'AC', 'D', 'Door left open (neither alarm nor trouble)'],
  ['DO', 'AC', 'D', 'Access open (door open to authorised users)'],
  ['DP', 'AC', 'D', 'Access denied (outside permitted hours)'],
  ['DQ', 'AC', 'D', 'Access denied (arming state not permitted)'],
  ['DS', 'SY', 'D', 'Door station (names the door of the next report)'],
  ['DT', 'T', '-', 'Access control trouble'],
  ['DU', 'SY', 'DEV', 'Dealer identifier'],
  ['DV', 'AC', 'D', 'Access denied (entry level not permitted)'],
  ['DW', 'AC', 'D', 'Access denied (interlock open)'],
  ['DX', 'AC', 'D', 'Request to exit'],
  ['DY', 'AC', 'D', 'Door locked'],
  ['DZ', 'AC', 'D', 'Access denied (door secured)'],
  ['EX', 'T', 'DEV', 'External device condition'],
  ['EZ', 'A', 'DEV', 'Missing point at end of exit delay'],
  ['FL', 'SY', 'Z', 'Fire sounders silenced'],
  ['FQ', 'TR', 'Z', 'Fire supervisory trouble restore'],
  ['FV', 'SVR', 'Z', 'Fire supervisory restore'],
  ['FW', 'T', 'Z', 'Fire supervisory trouble'],
  ['FY', 'T', 'Z', 'Missing fire point (trouble)'],
  ['FZ', 'SV', 'Z', 'Missing fire supervisory point'],
  ['JH', 'SY', 'U', 'Holiday schedule changed'],
  ['JK', 'T', 'U', 'Latchkey alert (expected user code not entered in time)'],
  ['JP', 'AC', 'U', 'User on premises'],
  ['JR', 'SY', 'A', 'Scheduled event executed'],
  ['JS', 'SY', 'U', 'Schedule changed'],
  ['JZ', 'SY', 'U', 'User authority level set'],
  ['LD', 'SY', '-', 'Local programming refused (wrong code)'],
  ['LE', 'SY', '-', 'Listen-in ended'],
  ['LF', 'SY', '-', 'Listen-in started'],
  ['LS', 'SY', '-', 'Local programming succeeded'],
  ['LU', 'SY', '-', 'Local programming failed'],
  ['MI', 'SY', 'DEV', 'Canned message'],
  ['NC', 'T', 'DEV', 'Network condition'],
  ['NM', 'CL', 'A', 'Perimeter armed (user-defined area)'],
  ['NS', 'SVR', 'Z', 'Activity resumed after a no-activity alert'],
  ['OH', 'OP', 'U', 'Early disarm from alarm'],
  ['OL', 'OP', 'U', 'Late disarm from alarm'],
  ['OU', 'T', 'DEV', 'Output trouble'],
  ['OV', 'TR', 'DEV', 'Output restore'],
  ['OZ', 'OP', 'Z', 'Point opening (single point disarmed)'],
  ['RA', 'T', '-', 'Call to remote programmer failed'],
  ['RC', 'SY', 'DEV', 'Relay energised'],
  ['RD', 'SY', '-', 'Remote programming refused (wrong passcode)'],
  ['RN', 'SY', '-', 'Reset by remote programmer'],
  ['RO', 'SY', 'DEV', 'Relay released'],
  ['RT', 'T', 'L', 'Data lost (dialler transmission error)'],
  ['RU', 'SY', '-', 'Remote programming failed'],
  ['SC', 'SY', 'DEV', 'Peripheral change of state'],
  ['TC', 'TS', '-', 'Walk test: every point tested'],
  ['TP', 'TS', 'DEV', 'Walk test: point tested'],
  ['TW', 'SY', '-', 'Area watch on'],
  ['TZ', 'SY', '-', 'Area watch off'],
  ['UY', 'T', 'Z', 'Missing untyped point (trouble, not armed)'],
  ['UZ', 'A', 'Z', 'Missing untyped point (alarm, armed)'],
  ['VI', 'TR', 'DEV', 'Printer paper loaded'],
  ['VO', 'T', 'DEV', 'Printer out of paper'],
  ['VR', 'TR', 'DEV', 'Printer trouble restore'],
  ['VT', 'T', 'DEV', 'Printer trouble'],
  ['VX', 'TS', 'DEV', 'Printer test'],
  ['VY', 'TR', '-', 'Receiver printer online'],
  ['VZ', 'T', '-', 'Receiver printer offline'],
  ['XA', 'SY', '-', 'Report from an unknown account (receiver)'],
  ['XE', 'T', 'DEV', 'Unexpected point detected'],
  ['XF', 'T', 'DEV', 'Unexpected RF point detected'],
  ['XI', 'SY', 'Z', 'Sensor reset by user'],
  ['XJ', 'TR', 'DEV', 'RF receiver tamper restoral'],
  ['XM', 'A', 'Z', 'Missing alarm confirmed by cross point'],
  ['XW', 'BY', 'Z', 'Forced point (left out when armed)'],
  ['XX', 'T', '-', 'Expected test report not received'],
  ['YB', 'SY', 'DEV', 'Receiver line card busy time'],
  ['YD', 'T', 'DEV', 'Receiver line card trouble'],
  ['YE', 'TR', 'DEV', 'Receiver line card restoral'],
  ['YI', 'T', '-', 'Overcurrent trouble'],
  ['YJ', 'TR', '-', 'Overcurrent restoral'],
  ['YO', 'SY', '-', 'Unrecognised message from automation or printer'],
  ['YU', 'T', 'DEV', 'Peripheral diagnostic error'],
  ['YY', 'SY', '-', 'Status report header'],
];

function buildCodeMap(groups: readonly (readonly CodeRow[])[]): ReadonlyMap<string, SiaCodeInfo> {
  const map = new Map<string, SiaCodeInfo>();
  for (const rows of groups) {
    for (const [code, category, address, description] of rows) {
      // A repeated code would silently shadow a row: fail at load time instead (a table-editing mistake).
      if (map.has(code)) throw new Error(`SIA code table lists ${code} twice`);
      map.set(
        code,
        Object.freeze({
          category: CATEGORY_BY_KEY[category],
          description,
          address: ADDRESS_BY_KEY[address],
        }),
      );
    }
  }
  return map;
}

export const SIA_CODES: ReadonlyMap<string, SiaCodeInfo> = buildCodeMap([COMMON_CODES, AJAX_CODES, ZONE_PATTERN_CODES, DC03_CODES]);

/** The table row for a two-letter code, or undefined when the code is not in the table. */
export function lookupSiaCode(code: string): SiaCodeInfo | undefined {
  return SIA_CODES.get(code);
}
