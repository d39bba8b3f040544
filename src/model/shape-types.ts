/**
 * The shape of an operation's input or output, as the generated model layer declares it
 * (src/model/*-inputs.ts, src/model/*-outputs.ts): src/operations/shape.ts validates and decodes inputs against it, src/protocol/
 * json-encoder.ts and xml-encoder.ts encode outputs by it. Pure data: no project imports (layer
 * rank 0).
 */

interface Base {
  readonly required?: boolean;
  /**
   * The model's `sensitive` trait: a violation message leaves the value out (`Value at
   * 'plaintext' …`) where it quotes ordinary members (`Value 'x' at 'aliasName' …`).
   */
  readonly sensitive?: boolean;
}
export interface StringShape extends Base {
  readonly type: 'string';
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: RegExp;
  /** The pattern as the model writes it, quoted in messages; default `pattern.source`. */
  readonly patternText?: string;
  readonly enum?: readonly string[];
}
export interface BlobShape extends Base {
  readonly type: 'blob';
  readonly min?: number;
  readonly max?: number;
}
export interface IntegerShape extends Base {
  readonly type: 'integer';
  readonly min?: number;
  readonly max?: number;
}
/** A floating-point number (outputs only: CloudTrail, IAM). */
export interface DoubleShape extends Base {
  readonly type: 'double';
}
export interface BooleanShape extends Base {
  readonly type: 'boolean';
}
export interface TimestampShape extends Base {
  readonly type: 'timestamp';
}
export interface MapShape extends Base {
  readonly type: 'map';
  /** Most UTF-8 bytes of all keys and values together (a Keyhold limit; docs/compatibility.md). */
  readonly maxBytes?: number;
  /** The type of the values; absent = string (every input map). */
  readonly value?: Shape;
}
export interface ListShape extends Base {
  readonly type: 'list';
  readonly member: Shape;
  readonly min?: number;
  readonly max?: number;
}
export interface StructureShape extends Base {
  readonly type: 'structure';
  readonly members: Readonly<Record<string, Shape>>;
}
/** One member's declared type and constraints. */
export type Shape =
  | StringShape
  | BlobShape
  | IntegerShape
  | DoubleShape
  | BooleanShape
  | TimestampShape
  | MapShape
  | ListShape
  | StructureShape;
