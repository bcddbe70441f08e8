import { hubspot } from '@hubspot/ui-extensions';
import { DealDeskHome } from '@dealgate/extensions';

// Thin entry: HubSpot loads this file as the app's home page; everything it renders lives in extensions/.
hubspot.extend<'home'>(({ context }) => <DealDeskHome fetcher={hubspot.fetch} userId={String(context.user.id)} />);
