import { TableCell, TableRow, Text } from '@hubspot/ui-extensions';
import type { HistoryEntry } from '../contract/api';
import { HeadedTable } from './HeadedTable';
import { actionLabel, formatWhen, historyDetail, newestFirst, userLabel } from './gateWording';

/** Every transition and blocked move, newest first, with who and when. */
export function HistorySection({ history, me }: { history: HistoryEntry[]; me: string }) {
  if (history.length === 0) return <Text variant="microcopy" testId="history-empty">No history yet.</Text>;
  return (
    <HeadedTable testId="history" headers={['When', 'What', 'Who', 'Detail']}>
      {newestFirst(history).map((entry, i) => (
        <TableRow key={`${entry.at}-${i}`} testId={`history-row-${i}`}>
          <TableCell>{formatWhen(entry.at)}</TableCell>
          <TableCell>{actionLabel(entry.action)}</TableCell>
          <TableCell>{userLabel(entry.actorPerson, me)}</TableCell>
          <TableCell>{historyDetail(entry)}</TableCell>
        </TableRow>
      ))}
    </HeadedTable>
  );
}
