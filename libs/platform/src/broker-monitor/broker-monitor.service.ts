import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { ServiceConfig } from '@order-saga/config';
import { createKafka } from '@order-saga/outbox';
import { CONFIG } from '../tokens.js';
import { BrokerMonitor } from './broker-monitor.js';

/** Runs the {@link BrokerMonitor} in the service that was chosen to compute the cluster's figures. */
@Injectable()
export class BrokerMonitorService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('BrokerMonitor');
  readonly monitor: BrokerMonitor;
  private failing = false;

  constructor(@Inject(CONFIG) config: ServiceConfig) {
    this.monitor = new BrokerMonitor({
      kafka: createKafka({ clientId: `${config.serviceName}-broker-monitor`, brokers: config.kafkaBrokers }),
      topicPrefix: config.kafkaTopicPrefix,
      onError: (error) => {
        // One line when it starts failing, not one per sweep through a broker outage.
        if (!this.failing) this.logger.warn(`broker monitor sweep failed: ${(error as Error).message}`);
        this.failing = true;
      },
      onSweep: () => {
        if (this.failing) this.logger.log('broker monitor sweeps again');
        this.failing = false;
      },
    });
  }

  onApplicationBootstrap(): void {
    this.monitor.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.monitor.stop();
  }
}
