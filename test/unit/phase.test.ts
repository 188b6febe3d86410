// `kubernetes-deploy-resource.io/phase: before` in extra manifests: Jobs only, checked when the manifests are parsed.
import { describe, expect, test } from 'vitest';
import { BadRequestError } from '../../src/errors.js';
import { isBeforePhase, parseExtraManifests } from '../../src/manifests/extra.js';

const parse = (content: string) => parseExtraManifests([{ path: 'deploy/migrate.yml', content }], 'staging');
const job = (annotation: string) => `
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations: { kubernetes-deploy-resource.io/phase: ${annotation} }
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{ name: migrate, image: registry.local/migrate:1 }]
`;

describe('phase before', () => {
  test('a Job annotated phase before is accepted and recognised; others are not before', () => {
    const [migrate] = parse(job('before'));
    expect(isBeforePhase(migrate!)).toBe(true);
    const [plain] = parse(job('before').replace(/ {2}annotations:.*\n/, ''));
    expect(isBeforePhase(plain!)).toBe(false);
  });

  test('another value is an error naming the object and the annotation', () => {
    expect(() => parse(job('after'))).toThrow(
      new BadRequestError(
        'params.manifests: deploy/migrate.yml document 1 (line 2): job/migrate: ' +
          'annotation kubernetes-deploy-resource.io/phase is "after"; the only phase is "before"',
      ),
    );
  });

  test.each([
    ['apps/v1', 'Deployment', 'deployment/db'],
    ['v1', 'ConfigMap', 'configmap/db'],
    ['batch/v1', 'CronJob', 'cronjob/db'],
  ])('on a %s %s it is an error naming the object', (apiVersion, kind, ref) => {
    const content =
      `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n  name: db\n` +
      '  annotations: { kubernetes-deploy-resource.io/phase: before }\n';
    expect(() => parse(content)).toThrow(
      new BadRequestError(
        `params.manifests: deploy/migrate.yml document 1 (line 1): ${ref}: ` +
          'annotation kubernetes-deploy-resource.io/phase: before is for Jobs (batch/v1) and for objects with a ' +
          'kubernetes-deploy-resource.io/wait-for annotation only: ' +
          'nothing else has an end to wait for',
      ),
    );
  });
});
