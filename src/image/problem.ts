/** A refusal that becomes an HTTP error response: the status and a reason the client can act on. */
export interface Problem {
  status: number;
  message: string;
}

export const problem = (status: number, message: string): Problem => ({ status, message });
