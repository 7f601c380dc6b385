/** Reads one Prometheus series from a /metrics page: `metricValue(url, 'baton_tool_calls_total', { tool: 'x' })`. */
export async function scrapeMetrics(url: string, token?: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.status, text: await response.text() };
}

/** The value of the first series of `name` carrying all `labels` (0 when there is none yet, as Prometheus reads it). */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const line = text
    .split('\n')
    .find((candidate) => (candidate.startsWith(`${name}{`) || candidate.startsWith(`${name} `)) && Object.entries(labels).every(([key, value]) => candidate.includes(`${key}="${value}"`)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}
