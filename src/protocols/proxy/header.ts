/** What a PROXY protocol header says (docs/proxy-protocol.md §1). */

export interface ProxyEndpoint {
  readonly address: string;
  readonly port: number;
}

/** The connection the proxy relays: the panel's end (`source`) and the address the panel dialled (`destination`). */
export interface ProxiedHeader {
  readonly kind: 'proxied';
  readonly version: 1 | 2;
  readonly family: 'tcp4' | 'tcp6';
  readonly source: ProxyEndpoint;
  readonly destination: ProxyEndpoint;
}

/** No address to take over (a v2 LOCAL health check, v1 UNKNOWN, a family the bridge does not use): keep the socket's own. */
export interface LocalHeader {
  readonly kind: 'local';
  readonly version: 1 | 2;
}

export type ProxyHeader = ProxiedHeader | LocalHeader;

/** Why bytes are not a header (a metric label: a fixed set). */
export type ProxyRejection =
  'not-proxy-protocol' | 'v1-malformed' | 'v1-too-long' | 'v2-bad-version' | 'v2-bad-command' | 'v2-bad-family' | 'v2-short-address';

export type ProxyParse =
  /**
   * The bytes so far start a header; read more. `need`: fewer bytes than this give the same answer, so a reader
   * may hold chunks until it has them (a v2 header dripped byte by byte is then parsed once, not per byte).
   */
  | { readonly kind: 'incomplete'; readonly need: number }
  /** `consumed`: the header's length; the connection's own data starts there. */
  | (ProxyHeader & { readonly consumed: number })
  | { readonly kind: 'invalid'; readonly reason: ProxyRejection };

/** v2 header: 12-byte signature, version/command, family/transport, 16-bit length (docs/proxy-protocol.md §3). */
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
export const V2_FIXED_BYTES = 16;
/** The longest header there is: a v2 header with the largest length field. */
export const PROXY_HEADER_MAX_BYTES = V2_FIXED_BYTES + 0xffff;
/** The longest v1 line, CRLF included (docs/proxy-protocol.md §2). */
export const V1_MAX_BYTES = 107;
export const V1_PREFIX = 'PROXY';
