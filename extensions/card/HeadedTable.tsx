import type { ReactNode } from 'react';
import { Table, TableBody, TableHead, TableHeader, TableRow } from '@hubspot/ui-extensions';

/** A bordered, condensed table under one row of column headers: the card's history, the home page's queue and violations. */
export function HeadedTable({ testId, headers, children }: { testId: string; headers: readonly string[]; children: ReactNode }) {
  return (
    <Table bordered density="condensed" testId={testId}>
      <TableHead>
        <TableRow>
          {headers.map((header) => (
            <TableHeader key={header}>{header}</TableHeader>
          ))}
        </TableRow>
      </TableHead>
      <TableBody>{children}</TableBody>
    </Table>
  );
}
