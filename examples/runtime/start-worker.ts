import { createBatonWorker, loadSettings } from 'baton';

// The runtime from code: a worker for the tools baton.yaml's toolsFrom names (BATON_CONFIG), as `baton worker` runs.
const baton = await createBatonWorker(loadSettings(process.env));
try {
  await baton.worker.run();
} finally {
  await baton.close();
}
