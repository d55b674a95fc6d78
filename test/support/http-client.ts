/** POSTs a JSON body to a collector's track endpoint and returns the status (body drained). */
export async function postTrack(baseUrl: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<number> {
  const response = await fetch(`${baseUrl}/api/v1/track`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  await response.arrayBuffer();
  return response.status;
}
