import { Flex, Heading, TableCell, TableRow, Text } from '@hubspot/ui-extensions';
import type { DashboardResponse } from '../contract/api';
import { HeadedTable } from '../card/HeadedTable';
import { formatWhen, userLabel } from '../card/gateWording';

/**
 * The deals let past the gate without review (issue 15): each open break-glass (who, why, until
 * when), soonest to end first, and how many each person opened this quarter. It is the only
 * legitimate bypass, so the deal desk sees every one.
 */
export function BreakGlassSection({ breakGlasses, me }: { breakGlasses: DashboardResponse['breakGlasses']; me: string }) {
  return (
    <Flex direction="column" gap="sm">
      <Heading>Break-glass: deals let past the gate without review</Heading>
      {breakGlasses.open.length === 0 ? (
        <Text testId="break-glasses-none">No deal is let past the gate without review now.</Text>
      ) : (
        <HeadedTable testId="break-glasses" headers={['Deal', 'Who', 'Why', 'Until']}>
          {breakGlasses.open.map((g) => (
            <TableRow key={g.id} testId={`break-glass-${g.id}`}>
              <TableCell>{g.dealName ?? `Deal ${g.dealId}`}</TableCell>
              <TableCell>{userLabel(g.openedBy, me)}</TableCell>
              <TableCell>{g.reason}</TableCell>
              <TableCell>{formatWhen(g.until)}</TableCell>
            </TableRow>
          ))}
        </HeadedTable>
      )}
      {breakGlasses.byPerson.length > 0 && (
        <HeadedTable testId="break-glasses-by-person" headers={['Who broke the glass, this quarter', 'Times']}>
          {breakGlasses.byPerson.map((p) => (
            <TableRow key={p.userId} testId={`break-glass-by-${p.userId}`}>
              <TableCell>{userLabel(p.userId, me)}</TableCell>
              <TableCell>{String(p.count)}</TableCell>
            </TableRow>
          ))}
        </HeadedTable>
      )}
    </Flex>
  );
}
