/**
 * The shape of an operation's input, as the generated model layer (src/model/*-inputs.ts) and
 * the hand-written shapes of src/operations/ declare it; src/operations/shape.ts validates and
 * decodes against it. Pure data: no project imports (layer rank 0).
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
  | BooleanShape
  | TimestampShape
  | MapShape
  | ListShape
  | StructureShape;
