/**
 * PROXY protocol v1/v2 (docs/proxy-protocol.md): the header a load balancer puts before a relayed TCP stream to
 * name the panel's own address. Pure: the TCP listener feeds it the first bytes of a connection.
 */
export {
  PROXY_HEADER_MAX_BYTES,
  type LocalHeader,
  type ProxiedHeader,
  type ProxyEndpoint,
  type ProxyHeader,
  type ProxyParse,
  type ProxyRejection,
} from './header.js';
export { parseProxyHeader } from './parse.js';
export { encodeProxyHeader } from './encode.js';
export { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from './ip.js';
