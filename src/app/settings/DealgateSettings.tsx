import { hubspot } from '@hubspot/ui-extensions';
import { SettingsPage } from '@dealgate/extensions';

// Thin entry: HubSpot loads this file on the app's settings page; everything it renders lives in extensions/.
hubspot.extend<'settings'>(({ actions }) => <SettingsPage actions={actions} fetcher={hubspot.fetch} />);
