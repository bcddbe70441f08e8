import { resourceNotFound } from '../hubspotErrors';

/**
 * Deal pipelines as /crm/v3/pipelines/deals returns them. Every account starts with HubSpot's
 * default sales pipeline (id `default`, with HubSpot's own stage ids); tests seed custom ones,
 * which get numeric ids like HubSpot gives them.
 * https://knowledge.hubspot.com/object-settings/set-up-and-customize-pipelines
 */
export interface PipelineStage {
  id: string;
  label: string;
  displayOrder: number;
  /** HubSpot sends both as strings: `{"isClosed": "false", "probability": "0.2"}`. */
  metadata: { isClosed: string; probability: string };
  writePermissions: 'CRM_PERMISSIONS_ENFORCEMENT';
  archived: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface Pipeline {
  id: string;
  label: string;
  displayOrder: number;
  stages: PipelineStage[];
  archived: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface StageSeed {
  id?: string;
  label: string;
  /** 0..1; defaults to 1 for won and 0 for lost closed stages. */
  probability?: number;
  isClosed?: boolean;
}

export interface PipelineSeed {
  id?: string;
  label: string;
  displayOrder?: number;
  stages: StageSeed[];
}

export const DEFAULT_PIPELINE_ID = 'default';

/** HubSpot's default sales pipeline, stage ids and probabilities as HubSpot ships them. */
export const DEFAULT_SALES_PIPELINE: PipelineSeed = {
  id: DEFAULT_PIPELINE_ID,
  label: 'Sales Pipeline',
  displayOrder: 0,
  stages: [
    { id: 'appointmentscheduled', label: 'Appointment Scheduled', probability: 0.2 },
    { id: 'qualifiedtobuy', label: 'Qualified To Buy', probability: 0.4 },
    { id: 'presentationscheduled', label: 'Presentation Scheduled', probability: 0.6 },
    { id: 'decisionmakerboughtin', label: 'Decision Maker Bought-In', probability: 0.8 },
    { id: 'contractsent', label: 'Contract Sent', probability: 0.9 },
    { id: 'closedwon', label: 'Closed Won', probability: 1, isClosed: true },
    { id: 'closedlost', label: 'Closed Lost', probability: 0, isClosed: true },
  ],
};

/** HubSpot writes probabilities with one decimal at least: "0.2", "1.0", "0.0". */
function formatProbability(p: number): string {
  return Number.isInteger(p) ? p.toFixed(1) : String(p);
}

export class PipelineRegistry {
  private readonly pipelines = new Map<string, Pipeline>();
  private nextId = 7_654_321;

  constructor(private readonly now: () => number) {
    this.seed(DEFAULT_SALES_PIPELINE);
  }

  seed(input: PipelineSeed): Pipeline {
    const at = new Date(this.now()).toISOString();
    const id = input.id ?? String(this.nextId++);
    const stages = input.stages.map((s, i): PipelineStage => {
      const isClosed = s.isClosed ?? false;
      const probability = s.probability ?? (isClosed ? (/lost/i.test(s.label) ? 0 : 1) : Math.min(0.9, (i + 1) / 10));
      return {
        id: s.id ?? String(this.nextId++),
        label: s.label,
        displayOrder: i,
        metadata: { isClosed: String(isClosed), probability: formatProbability(probability) },
        writePermissions: 'CRM_PERMISSIONS_ENFORCEMENT',
        archived: false,
        createdAt: at,
        updatedAt: at,
      };
    });
    const pipeline: Pipeline = { id, label: input.label, displayOrder: input.displayOrder ?? this.pipelines.size, stages, archived: false, createdAt: at, updatedAt: at };
    this.pipelines.set(id, pipeline);
    return pipeline;
  }

  list(): Pipeline[] {
    return [...this.pipelines.values()].sort((a, b) => a.displayOrder - b.displayOrder);
  }

  find(id: string): Pipeline | undefined {
    return this.pipelines.get(id);
  }

  get(id: string): Pipeline {
    const pipeline = this.find(id);
    if (!pipeline) throw resourceNotFound(`Unable to find pipeline with id '${id}'`);
    return pipeline;
  }

  getStage(pipelineId: string, stageId: string): PipelineStage {
    const stage = this.get(pipelineId).stages.find((s) => s.id === stageId);
    if (!stage) throw resourceNotFound(`Unable to find stage '${stageId}' in pipeline '${pipelineId}'`);
    return stage;
  }

  /** The pipeline a stage belongs to (stage ids are unique across an account's deal pipelines). */
  pipelineOfStage(stageId: string): Pipeline | undefined {
    return this.list().find((p) => p.stages.some((s) => s.id === stageId));
  }
}
