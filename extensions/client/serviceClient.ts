import type {
  AbsenceBody,
  AbsencesResponse,
  AbsenceView,
  ApiErrorBody,
  BreakGlassBody,
  DashboardResponse,
  DecisionBody,
  DeliveryUpdateBody,
  EnforceBackfillResponse,
  GateResponse,
  PerspectiveBody,
  PeopleResponse,
  RequestReviewBody,
  Settings,
  SettingsResponse,
} from '../contract/api';
import serviceUrl from './serviceUrl.json';

/**
 * How the UI talks to the Dealgate service: `hubspot.fetch` in HubSpot (which signs the request
 * and appends the caller's portalId/userId), an injected fetcher in tests and the demo.
 */
export type ServiceFetcher = (
  url: string,
  options?: { method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'; body?: Record<string, unknown>; timeout?: number },
) => Promise<Response>;

/**
 * Where the deployed service is: written to serviceUrl.json by `npm run hubspot:configure`, together
 * with permittedUrls.fetch in app-hsmeta.json (HubSpot refuses a fetch to any other URL).
 */
export const DEFAULT_SERVICE_URL: string = serviceUrl.serviceUrl;

/** What a call came back with: the typed body, or the service's coded error (network failures included). */
export type ServiceResult<T> =
  | { ok: true; body: T }
  | { ok: false; status: number; code: string; message: string; fieldErrors: Record<string, string>; details: Record<string, unknown> };

/**
 * The service accepts each signed write once; HubSpot's retry of a request whose answer was lost
 * (same body, same signature) is refused with 409 `replayed`. The change itself went through (or is
 * going through) with the first copy, so the views say so and show the current state.
 */
export const REPLAYED = 'replayed';
export const REPLAYED_MESSAGE =
  'Dealgate had already received this request (HubSpot sent it twice) and never carries out a request twice: the first one counts. Reload to see its result if it is not shown yet.';

function isApiError(body: unknown): body is ApiErrorBody {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const error = (body as { error: unknown }).error;
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string';
}

/** The API names invalid fields as `details.issues[].path` ("effortWeeks", "capacity.commitmentShare"). */
function fieldErrorsOf(body: ApiErrorBody): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of body.error.details?.issues ?? []) {
    const key = issue.path === '' ? '_form' : issue.path;
    out[key] ??= issue.message;
  }
  return out;
}

async function call<T>(fetcher: ServiceFetcher, url: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', body?: Record<string, unknown>): Promise<ServiceResult<T>> {
  let response: Response;
  try {
    response = await fetcher(url, body === undefined ? { method } : { method, body });
  } catch (error) {
    return { ok: false, status: 0, code: 'network_error', message: `Dealgate could not be reached: ${error instanceof Error ? error.message : String(error)}`, fieldErrors: {}, details: {} };
  }
  let parsed: unknown = null;
  try {
    parsed = await response.json();
  } catch {
    parsed = null;
  }
  if (response.ok) return { ok: true, body: parsed as T };
  if (isApiError(parsed)) {
    return {
      ok: false,
      status: response.status,
      code: parsed.error.code,
      message: parsed.error.code === REPLAYED ? REPLAYED_MESSAGE : parsed.error.message,
      fieldErrors: fieldErrorsOf(parsed),
      details: parsed.error.details ?? {},
    };
  }
  return { ok: false, status: response.status, code: 'unexpected_response', message: `Dealgate answered ${response.status}`, fieldErrors: {}, details: {} };
}

export interface ServiceClient {
  getGate(dealId: string): Promise<ServiceResult<GateResponse>>;
  requestReview(dealId: string, body: RequestReviewBody): Promise<ServiceResult<GateResponse>>;
  decide(reviewId: number, body: DecisionBody): Promise<ServiceResult<GateResponse>>;
  withdraw(reviewId: number): Promise<ServiceResult<GateResponse>>;
  updateDelivery(reviewId: number, body: DeliveryUpdateBody): Promise<ServiceResult<GateResponse>>;
  givePerspective(reviewId: number, body: PerspectiveBody): Promise<ServiceResult<GateResponse>>;
  breakGlass(dealId: string, body: BreakGlassBody): Promise<ServiceResult<GateResponse>>;
  getSettings(): Promise<ServiceResult<SettingsResponse>>;
  putSettings(settings: Settings): Promise<ServiceResult<SettingsResponse>>;
  getDashboard(): Promise<ServiceResult<DashboardResponse>>;
  enforceBackfill(): Promise<ServiceResult<EnforceBackfillResponse>>;
  /** The account's users by name, for the settings pickers (issue 15). */
  getPeople(): Promise<ServiceResult<PeopleResponse>>;
  /** Out of office (issue 15): the current and upcoming absences, the reviewers by name; record one; end one now. */
  getAbsences(): Promise<ServiceResult<AbsencesResponse>>;
  createAbsence(body: AbsenceBody): Promise<ServiceResult<AbsenceView>>;
  endAbsence(absenceId: number): Promise<ServiceResult<AbsencesResponse>>;
}

export function createServiceClient(fetcher: ServiceFetcher, baseUrl: string = DEFAULT_SERVICE_URL): ServiceClient {
  const api = `${baseUrl.replace(/\/+$/, '')}/api/v1`;
  const seg = encodeURIComponent;
  return {
    getGate: (dealId) => call(fetcher, `${api}/deals/${seg(dealId)}/gate`, 'GET'),
    requestReview: (dealId, body) => call(fetcher, `${api}/deals/${seg(dealId)}/reviews`, 'POST', body),
    decide: (reviewId, body) => call(fetcher, `${api}/reviews/${reviewId}/decision`, 'POST', body),
    withdraw: (reviewId) => call(fetcher, `${api}/reviews/${reviewId}/withdraw`, 'POST', {}),
    updateDelivery: (reviewId, body) => call(fetcher, `${api}/reviews/${reviewId}/delivery`, 'POST', body),
    givePerspective: (reviewId, body) => call(fetcher, `${api}/reviews/${reviewId}/perspective`, 'POST', body),
    breakGlass: (dealId, body) => call(fetcher, `${api}/deals/${dealId}/break-glass`, 'POST', body),
    getSettings: () => call(fetcher, `${api}/settings`, 'GET'),
    putSettings: (settings) => call(fetcher, `${api}/settings`, 'PUT', settings),
    getDashboard: () => call(fetcher, `${api}/dashboard`, 'GET'),
    enforceBackfill: () => call(fetcher, `${api}/flags/backfill/enforce`, 'POST', {}),
    getPeople: () => call(fetcher, `${api}/people`, 'GET'),
    getAbsences: () => call(fetcher, `${api}/absences`, 'GET'),
    createAbsence: (body) => call(fetcher, `${api}/absences`, 'POST', body),
    endAbsence: (absenceId) => call(fetcher, `${api}/absences/${absenceId}`, 'DELETE'),
  };
}
