import { hubspot } from '@hubspot/ui-extensions';
import { DealgateCard } from '@dealgate/extensions';

// Thin entry: HubSpot loads this file; everything it renders lives in extensions/.
hubspot.extend<'crm.record.tab'>(({ context, actions }) => (
  <DealgateCard context={context} actions={actions} fetcher={hubspot.fetch} />
));
