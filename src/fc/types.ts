/** FC 3.0 shapes, as the FC documentation and ../shared/reference/fc-events describe them. */

export interface FcHttpTriggerEvent {
  version?: string;
  rawPath: string;
  body?: string;
  isBase64Encoded?: boolean;
  headers?: Record<string, string>;
  queryParameters?: Record<string, string>;
  requestContext?: {
    accountId?: string;
    domainName?: string;
    domainPrefix?: string;
    http?: { method?: string; path?: string; protocol?: string; sourceIp?: string; userAgent?: string };
    requestId?: string;
    time?: string;
    timeEpoch?: string;
  };
}

export interface FcTimerEvent {
  triggerTime: string;
  triggerName: string;
  payload: string;
}

export interface FcHttpReply {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}

/** The parts of FC's `context` argument that the adapters read. */
export interface FcContext {
  requestId?: string;
  function?: { name?: string; timeout?: number; memory?: number; handler?: string };
  credentials?: { accessKeyId?: string; accessKeySecret?: string; securityToken?: string };
  logger?: unknown;
}
