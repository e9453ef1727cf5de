import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ProjectionsService } from '../infra/projections.service.js';

/**
 * Liveness plus each projection's state, lag and retention headroom: how many records of each
 * partition lie between the retention horizon and the projection's position, and whether a
 * rebuild from offset 0 is still possible (nothing deleted yet).
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly projections: ProjectionsService) {}

  @Get()
  @ApiOperation({ summary: 'Liveness, projection lag and retention headroom' })
  health(): Record<string, unknown> {
    return {
      status: 'ok',
      service: 'order-view',
      projections: this.projections.all().map((s) => ({
        name: s.name,
        state: s.state,
        generation: s.generation,
        lagMessages: s.position?.lagMessages ?? null,
        lagSeconds: s.position && Number.isFinite(s.position.lagSeconds) ? s.position.lagSeconds : null,
        progress: s.position?.progress ?? null,
        rebuildableFromStart: s.position ? s.position.partitions.every((p) => p.low === 0n) : null,
        retention: (s.position?.partitions ?? []).map((p) => ({
          topic: p.topic,
          partition: p.partition,
          position: Number(p.next),
          earliestRetained: Number(p.low),
          latest: Number(p.high),
          headroomMessages: Number(p.headroom),
          retentionMs: s.retentionMs[p.topic] ?? null,
        })),
      })),
    };
  }
}
