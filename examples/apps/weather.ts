// apps/weather.ts, named in baton.yaml by `appsFrom: ./apps/weather.ts`: an app written as code, registered
// the way Baton's own GitHub, Slack, Jira and CRM connectors are (a module exporting `apps`).
import { readRestAnswer, type AppConnector } from 'baton';
import { z } from 'baton/sdk';

const forecast = z.object({ city: z.string().min(1).max(100), days: z.number().int().min(1).max(7).default(3) });

export const apps: AppConnector[] = [
  {
    id: 'weather',
    displayName: 'Weather',
    defaultEndpoints: { apiBaseUrl: 'https://weather.example/api' },
    defaultMode: 'api_key',
    actions: {
      forecast: {
        description: 'The forecast for a city',
        input: forecast,
        toRequest: (input: z.infer<typeof forecast>) => ({ method: 'GET', path: '/v1/forecast', query: { city: input.city, days: String(input.days) } }),
        readAnswer: (status, body) => readRestAnswer('Weather', status, body, (result) => result),
      },
    },
  },
];
