/**
 * How the demo speaks: numbered step headings, plain sentences, the card as text in a frame, and
 * one ✓/✗ line per check. The first failed check ends the story with a StepFailure naming the
 * step, so the exit code and the last lines say exactly what did not behave as told.
 */
export type Write = (text: string) => void;

export class StepFailure extends Error {
  constructor(
    readonly step: string,
    readonly check: string,
  ) {
    super(`${step} failed: ${check}`);
    this.name = 'StepFailure';
  }
}

export class Narrator {
  private current = 'Setup';
  private count = 0;
  private checks = 0;

  constructor(private readonly write: Write) {}

  /** The heading under which the next checks are counted. */
  step(title: string): void {
    this.count += 1;
    this.current = `Step ${this.count} — ${title}`;
    this.heading(this.current);
  }

  /** A heading that is not a numbered step (the finale). */
  section(title: string): void {
    this.current = title;
    this.heading(title);
  }

  get stepName(): string {
    return this.current;
  }

  get checksPassed(): number {
    return this.checks;
  }

  say(text: string): void {
    this.write(`${indent(text, '  ')}\n`);
  }

  /** A block of what someone sees (the card, a note), framed so it stands apart from the story. */
  show(caption: string, text: string): void {
    this.write(`\n  ${caption}\n${indent(text.trimEnd(), '    │ ')}\n\n`);
  }

  check(label: string, ok: boolean, detail?: string): void {
    if (!ok) {
      const check = detail === undefined ? label : `${label} (${detail})`;
      this.write(`  ✗ ${check}\n`);
      throw new StepFailure(this.current, check);
    }
    this.checks += 1;
    this.write(`  ✓ ${label}\n`);
  }

  /** A check of one value, saying what was expected and what came when it fails. */
  expectEqual<T>(label: string, actual: T, expected: T): void {
    const same = JSON.stringify(actual) === JSON.stringify(expected);
    this.check(label, same, same ? undefined : `expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }

  private heading(title: string): void {
    this.write(`\n${title}\n${'─'.repeat(Math.min(title.length, 100))}\n`);
  }
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}

/** A HubSpot note's HTML as a person reads it in the deal's timeline: one line per paragraph. */
export function noteText(html: string | undefined): string {
  return (html ?? '')
    .replace(/<\/p>\s*/g, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .trim();
}
