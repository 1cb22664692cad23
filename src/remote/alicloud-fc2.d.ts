/** The part of @alicloud/fc2 (which ships no types) that src/remote uses: its generic signed request. */
declare module '@alicloud/fc2' {
  interface FcClientConfig {
    accessKeyID: string;
    accessKeySecret: string;
    securityToken?: string;
    region: string;
    endpoint?: string;
    secure?: boolean;
    timeout?: number;
  }

  interface FcResponse {
    headers: Record<string, string | string[] | undefined>;
    data: unknown;
  }

  class FCClient {
    constructor(accountId: string, config: FcClientConfig);
    /** The API version prefixed to every path, and signed with it; 2016-08-15 unless changed. */
    version: string;
    request(
      method: string,
      path: string,
      query: Record<string, string> | null,
      body: Buffer | string | object | null,
      headers?: Record<string, string>,
    ): Promise<FcResponse>;
  }

  export = FCClient;
}
