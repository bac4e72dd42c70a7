// Docker HEALTHCHECK for caravan's images: `node infra/healthcheck.mjs gateway|worker`.
// gateway: GET / on the port of CARAVAN_HOST (default 11434) must answer 200.
// worker:  GET /metrics on CARAVAN_METRICS_PORT (default 9464) must answer 200.
// The images have neither curl nor wget; node's fetch does the probe.
const role = process.argv[2];

function gatewayPort(host) {
  const match = /:(\d+)\/?$/.exec((host ?? "").trim());
  return match ? Number(match[1]) : 11434;
}

let url;
if (role === "gateway") url = `http://127.0.0.1:${gatewayPort(process.env.CARAVAN_HOST)}/`;
else if (role === "worker") url = `http://127.0.0.1:${Number(process.env.CARAVAN_METRICS_PORT || 9464)}/metrics`;
else {
  console.error("usage: node infra/healthcheck.mjs gateway|worker");
  process.exit(2);
}

try {
  const response = await fetch(url, { signal: AbortSignal.timeout(4000) });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  process.exit(0);
} catch (error) {
  console.error(`unhealthy: ${url}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
