import { createKafka } from '@order-saga/outbox';
import { testInfra } from '@order-saga/testing';

/** A run's topics and the services' consumer groups (named after the prefix) go; the broker is shared. */
export async function removeTopics(prefix: string): Promise<void> {
  const admin = createKafka({ clientId: 'bench-cleanup', brokers: testInfra().kafkaBrokers }).admin();
  await admin.connect();
  try {
    const ours = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (ours.length > 0) await admin.deleteTopics({ topics: ours });
    const groups = (await admin.listGroups()).groups
      .map((g) => g.groupId)
      .filter((g) => g.startsWith(prefix));
    if (groups.length > 0) await admin.deleteGroups(groups);
  } finally {
    await admin.disconnect();
  }
}
