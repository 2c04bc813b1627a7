/** A request that is wrong as given (a command-line option, a request body): the message names what to change. */
export class UsageError extends Error {
  override name = 'UsageError';
}
