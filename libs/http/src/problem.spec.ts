import { BadRequestException, NotFoundException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { ProblemException, fieldErrors, problemFor } from './problem.js';

describe('problemFor', () => {
  it('answers a ProblemException with its own fields, the request path and its headers', () => {
    const exception = new ProblemException(
      { type: 'tag:x', title: 'Too busy', status: 429, detail: 'later' },
      { 'Retry-After': '1' },
    );
    expect(problemFor(exception, '/orders')).toEqual({
      problem: { type: 'tag:x', title: 'Too busy', status: 429, detail: 'later', instance: '/orders' },
      headers: { 'Retry-After': '1' },
    });
  });

  it('answers a Nest HTTP exception as about:blank with the status text as title', () => {
    expect(problemFor(new NotFoundException('Cannot GET /nope'), '/nope').problem).toEqual({
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: 'Cannot GET /nope',
      instance: '/nope',
    });
  });

  it('blames the whole body when body-parser refuses it as too large', () => {
    const tooLarge = Object.assign(new Error('request entity too large'), {
      status: 413,
      expose: true,
      type: 'entity.too.large',
      limit: 65536,
      length: 71680,
    });
    expect(problemFor(tooLarge, '/orders').problem).toMatchObject({
      status: 413,
      title: 'Payload Too Large',
      errors: [{ field: '(body)', reason: 'the body is 71680 bytes; at most 65536 are accepted' }],
    });
  });

  it('reveals nothing of an unexpected error', () => {
    const problem = problemFor(
      new Error('connection to 10.0.0.5 refused; password=hunter2'),
      '/orders',
    ).problem;
    expect(problem).toEqual({
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      detail: 'An unexpected error occurred; it has been logged.',
      instance: '/orders',
    });
  });

  it("blames the whole body when Nest hands over body-parser's refusal wrapped in an HttpException", () => {
    const notJson = Object.assign(new SyntaxError('Unexpected end of JSON input'), {
      status: 400,
      expose: true,
      type: 'entity.parse.failed',
    });
    const wrapped = new BadRequestException(notJson.message, { cause: notJson });
    expect(problemFor(wrapped, '/orders').problem).toMatchObject({
      status: 400,
      errors: [{ field: '(body)', reason: 'not valid JSON: Unexpected end of JSON input' }],
    });
  });

  it('does not trust a status on an error not marked safe to expose', () => {
    const internal = Object.assign(new Error('pool exhausted'), { status: 400 });
    expect(problemFor(internal, '/orders').problem.status).toBe(500);
  });

  it('keeps the status of other 4xx exceptions', () => {
    expect(problemFor(new BadRequestException('bad'), '/x').problem.status).toBe(400);
  });
});

describe('fieldErrors', () => {
  it('writes paths as items[0].quantity and blames the body for root issues', () => {
    expect(
      fieldErrors([
        { message: 'expected a positive integer', path: ['items', 0, 'quantity'] },
        { message: 'expected a JSON object', path: [] },
        { message: 'required', path: [{ key: 'customerId' }] },
      ]),
    ).toEqual([
      { field: 'items[0].quantity', reason: 'expected a positive integer' },
      { field: '(body)', reason: 'expected a JSON object' },
      { field: 'customerId', reason: 'required' },
    ]);
  });
});
