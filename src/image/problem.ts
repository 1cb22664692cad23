/** A refusal that becomes an HTTP error response: the status and a reason the client can act on. */
export interface Problem {
  status: number;
  message: string;
  /** Seconds, for a 503: when trying again makes sense. */
  retryAfter?: number;
}

export const problem = (status: number, message: string, retryAfter?: number): Problem => ({ status, message, ...(retryAfter ? { retryAfter } : {}) });
