export interface RedisTransportOptions {
  /** redis://host:port/db */
  url: string;
  /** key prefix, default "caravan" */
  prefix?: string;
}
