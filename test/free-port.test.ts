/** npm start checks its ports first, so a second `npm start` says what is wrong instead of failing deep inside. */
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ensurePortFree } from '../scripts/free-port.ts';

test('a taken port is reported with the variable that moves it; a free one passes', async () => {
  const holder = createServer().listen(0, '127.0.0.1');
  await once(holder, 'listening');
  const { port } = holder.address() as AddressInfo;
  await expect(ensurePortFree(port, 'consent pages', 'BATON_PORT')).rejects.toThrow(
    `Port ${port} (consent pages) is already in use: is another \`npm start\` running? Stop it, or pick another port with BATON_PORT=...`,
  );
  holder.close();
  await once(holder, 'close');
  await expect(ensurePortFree(port, 'consent pages', 'BATON_PORT')).resolves.toBeUndefined();
});
