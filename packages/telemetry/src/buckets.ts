/**
 * Histogram bucket boundaries for an LLM server's latencies and sizes. OTel's default buckets
 * (0 … 10,000, meant for milliseconds) would put every second-valued latency in one bucket.
 */

/** Time to first token, and whole request durations: 5 ms … 60 s (and above). */
export const LATENCY_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 30, 60];

/** Request durations, up to long generations: 10 ms … 10 min. */
export const REQUEST_DURATION_BUCKETS_S = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320, 600];

/** Time per output token: 0.1 ms (tiny models on CPU run thousands per second) … 2.5 s. */
export const TOKEN_LATENCY_BUCKETS_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5];

/** Time waiting for a worker: 1 ms … 2 min (the default queue timeout). */
export const QUEUE_WAIT_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** Model loads: 10 ms (tiny models) … 5 min (large ones from a slow disk). */
export const LOAD_DURATION_BUCKETS_S = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];

/** Token counts per request (GenAI semantic conventions' advice): 1 … 4M, powers of 4. */
export const TOKEN_COUNT_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304];
