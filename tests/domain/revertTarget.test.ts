import { revertCandidates } from '../../src/server/domain/revertTarget';

/** The revert target rule of the domain: which stages a deal past the gate without sign-off may go back to, best first. */
describe('revertCandidates', () => {
  const history = (...stages: string[]) => stages.map((value) => ({ value }));

  it('offers the stages the deal sat in before the move, newest first, without the one it is in or repeats', () => {
    expect(
      revertCandidates({ history: history('closedwon', 'contractsent', 'closedwon', 'presentationscheduled', 'contractsent'), currentStage: 'closedwon', moveIndex: 0, isMove: true, inWonStage: true }),
    ).toEqual(['contractsent', 'presentationscheduled']);
  });

  it('reads only the entries older than the move being undone', () => {
    expect(revertCandidates({ history: history('decisionmakerboughtin', 'closedwon', 'qualifiedtobuy'), currentStage: 'decisionmakerboughtin', moveIndex: 1, isMove: true, inWonStage: false })).toEqual(['qualifiedtobuy']);
  });

  it('reads the whole history after the newest entry when the move is not found in it', () => {
    expect(revertCandidates({ history: history('closedwon', 'contractsent'), currentStage: 'closedwon', moveIndex: -1, isMove: true, inWonStage: true })).toEqual(['contractsent']);
  });

  it('offers nothing for a won deal found past the gate (not moved there just now): it goes to the gate stage', () => {
    expect(revertCandidates({ history: history('closedwon', 'appointmentscheduled'), currentStage: 'closedwon', moveIndex: -1, isMove: false, inWonStage: true })).toEqual([]);
  });

  it('still offers the history of a deal found past the gate in a stage that is not won', () => {
    expect(revertCandidates({ history: history('decisionmakerboughtin', 'appointmentscheduled'), currentStage: 'decisionmakerboughtin', moveIndex: 0, isMove: false, inWonStage: false })).toEqual(['appointmentscheduled']);
  });
});
