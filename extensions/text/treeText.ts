import {
  isRenderedElementNode,
  isRenderedTextNode,
  type RenderedChildNode,
  type RenderedElementNode,
  type RenderedFragmentNode,
  type RenderedRootNode,
} from '@hubspot/ui-extensions/testing';
import { toIsoDate, type CalendarDate } from '../card/dateValue';
import { chartLines } from './chartText';

/**
 * Plain text of what a rendered UI-extension tree shows, as a person would read it off the
 * screen: headings, tags, alerts, form fields with their values and errors, buttons (and whether
 * they can be pressed), progress bars, tables row by row. For the demo, and for tests that assert
 * what a view says rather than how it is built.
 */

type ParentNode = RenderedRootNode | RenderedFragmentNode | RenderedElementNode;

function isElement(node: RenderedChildNode): node is RenderedElementNode {
  return isRenderedElementNode(node);
}

/** A table cell's content on one line; tags keep their brackets, as everywhere else. */
function inlineText(node: RenderedChildNode): string {
  if (!isElement(node)) return node.text;
  const inner = node.childNodes.map(inlineText).join('');
  return node.name === 'StatusTag' || node.name === 'Tag' ? `[${inner}]` : inner;
}

/** Every text node under `node`, joined: what the subtree says, without layout. */
export function textContent(node: ParentNode | RenderedChildNode | null | undefined): string {
  if (!node) return '';
  if (isRenderedTextNode(node)) return node.text;
  return node.childNodes.map((child) => textContent(child)).join('');
}

function prop(node: RenderedElementNode, name: string): unknown {
  return (node.props as Record<string, unknown>)[name];
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function fieldValue(node: RenderedElementNode): string {
  const value = prop(node, 'value');
  if (node.name === 'Select') {
    const options = (prop(node, 'options') as { label: string; value: unknown }[] | undefined) ?? [];
    const chosen = options.find((o) => o.value === value);
    const choices = options.map((o) => o.label).join(' / ');
    return `${chosen ? chosen.label : '(choose)'}   [options: ${choices}]`;
  }
  if (node.name === 'DateInput') {
    const d = value as CalendarDate | undefined;
    return d ? toIsoDate(d) : '';
  }
  if (node.name === 'Toggle' || node.name === 'Checkbox') return prop(node, 'checked') ? 'on' : 'off';
  if (value === undefined || value === null) return '';
  return String(value);
}

const FIELDS = new Set(['Input', 'TextArea', 'Textarea', 'NumberInput', 'CurrencyInput', 'DateInput', 'Select', 'MultiSelect', 'Toggle', 'Checkbox']);

function bar(value: number, max: number): string {
  const share = max > 0 ? Math.max(0, Math.min(1, value / max)) : 1;
  const filled = Math.round(share * 20);
  return `[${'#'.repeat(filled)}${'-'.repeat(20 - filled)}] ${Math.round((max > 0 ? value / max : 1) * 100)}%`;
}

class Writer {
  readonly lines: string[] = [];
  line(indent: number, text: string): void {
    const trimmed = text.replace(/\s+$/, '');
    if (trimmed !== '') this.lines.push(`${'  '.repeat(indent)}${trimmed}`);
  }
}

function children(node: ParentNode, indent: number, out: Writer): void {
  for (const child of node.childNodes) {
    if (isElement(child)) element(child, indent, out);
    else out.line(indent, child.text.trim());
  }
}

function element(node: RenderedElementNode, indent: number, out: Writer): void {
  const text = () => textContent(node).replace(/\s+/g, ' ').trim();
  switch (node.name) {
    case 'Heading':
      out.line(indent, `== ${text()} ==`);
      return;
    case 'Text':
    case 'Link':
      out.line(indent, text());
      return;
    case 'StatusTag':
    case 'Tag':
      out.line(indent, `[${text()}]`);
      return;
    case 'LoadingSpinner':
      out.line(indent, `(loading: ${str(prop(node, 'label'))})`);
      return;
    case 'Divider':
      out.line(indent, '-'.repeat(40));
      return;
    case 'Button':
    case 'LoadingButton': {
      const state = prop(node, 'loading') ? ' (working...)' : prop(node, 'disabled') ? ' (disabled)' : '';
      out.line(indent, `< ${text()} >${state}`);
      return;
    }
    case 'Alert':
    case 'EmptyState':
    case 'ErrorState': {
      const mark = node.name === 'Alert' ? `! ${str(prop(node, 'variant')) || 'info'}: ` : node.name === 'ErrorState' ? '! ' : '';
      out.line(indent, `${mark}${str(prop(node, 'title'))}`);
      children(node, indent + 1, out);
      return;
    }
    case 'DescriptionListItem':
      out.line(indent, `${str(prop(node, 'label'))}: ${text()}`);
      return;
    case 'StatisticsItem':
      out.line(indent, `${str(prop(node, 'label'))}: ${String(prop(node, 'number') ?? '')}`);
      children(node, indent + 1, out);
      return;
    case 'ProgressBar': {
      const value = Number(prop(node, 'value') ?? 0);
      const max = Number(prop(node, 'maxValue') ?? 100);
      out.line(indent, `${str(prop(node, 'title'))}: ${bar(value, max)} ${str(prop(node, 'valueDescription'))}`);
      return;
    }
    case 'BarChart':
    case 'LineChart':
      for (const line of chartLines(prop(node, 'data'), prop(node, 'axes'))) out.line(indent, line);
      return;
    case 'TableRow':
      out.line(
        indent,
        node.childNodes
          .filter(isElement)
          .map((cell) => inlineText(cell).replace(/\s+/g, ' ').trim())
          .join(' | '),
      );
      return;
    default:
      if (FIELDS.has(node.name)) {
        const required = prop(node, 'required') ? ' *' : '';
        const readOnly = prop(node, 'readOnly') || prop(node, 'readonly') ? ' (read only)' : '';
        out.line(indent, `${str(prop(node, 'label'))}${required}: ${fieldValue(node)}${readOnly}`);
        if (prop(node, 'error') && prop(node, 'validationMessage')) out.line(indent + 1, `^ ${str(prop(node, 'validationMessage'))}`);
        return;
      }
      // Layout (Flex, Box, Table, Statistics, DescriptionList...): only its content shows.
      children(node, indent, out);
  }
}

/** The readable plain text of a rendered tree (root, fragment or element). */
export function treeToText(node: ParentNode): string {
  const out = new Writer();
  if (isRenderedElementNode(node)) element(node, 0, out);
  else children(node, 0, out);
  return out.lines.join('\n');
}
