export interface HubServer {
  endpoint: string;
  port: number;
  requests: Array<{ method?: string; path: string; range?: string }>;
  cut(file: string, after: number, times?: number): void;
  throttle(bytesPerSecond: number): void;
  setRangeSupport(on: boolean): void;
  stop(): Promise<void>;
}
export declare function startHubServer(options: { repos: Record<string, string>; port?: number; revisions?: string[] }): Promise<HubServer>;
