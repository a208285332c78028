// The one TypeScript↔WGSL contract. Uniform structs, storage structs and enum codes are declared
// here in TypeScript; their WGSL declarations are generated from the same definitions and
// prepended to the shaders (src/kernels/*), and the host writes them through the same field
// list. So no byte offset, stride or code is ever written twice.

/** Scalar field types (4 bytes each; every struct here is made of them, so fields pack densely). */
export type ScalarType = 'u32' | 'f32';

export interface WgslStruct<F extends string> {
  readonly name: string;
  readonly fields: readonly (readonly [F, ScalarType])[];
  /** Bytes of one struct (its array stride in storage; a uniform binding rounds it up to 16). */
  readonly byteSize: number;
  /** `struct Name { field: type, ... }` */
  readonly wgsl: string;
  /** Byte offset of a field. */
  offset(field: F): number;
  /** Writes every field at its offset from `base`; a missing or non-finite value is an error. */
  write(view: DataView, values: Readonly<Record<F, number>>, base?: number): void;
}

export function wgslStruct<const F extends string>(name: string, fields: readonly (readonly [F, ScalarType])[]): WgslStruct<F> {
  const offsets = new Map<F, number>(fields.map(([field], i) => [field, 4 * i]));
  const wgsl = `struct ${name} {\n${fields.map(([field, type]) => `  ${field}: ${type},`).join('\n')}\n}`;
  return {
    name,
    fields,
    byteSize: 4 * fields.length,
    wgsl,
    offset(field) {
      const at = offsets.get(field);
      if (at === undefined) throw new RangeError(`${name} has no field ${field}`);
      return at;
    },
    write(view, values, base = 0) {
      fields.forEach(([field, type], i) => {
        const value = values[field];
        if (typeof value !== 'number' || Number.isNaN(value)) throw new RangeError(`${name}.${field}: ${value} is not a number`);
        if (type === 'u32') {
          if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`${name}.${field}: ${value} is not a u32`);
          view.setUint32(base + 4 * i, value, true);
        } else {
          view.setFloat32(base + 4 * i, value, true);
        }
      });
    },
  };
}

/** `const PREFIX_NAME: u32 = code;` for each entry: the enum as WGSL sees it. */
export function wgslEnum(prefix: string, codes: Readonly<Record<string, number>>): string {
  return Object.entries(codes)
    .map(([name, code]) => `const ${prefix}_${constantName(name)}: u32 = ${code}u;`)
    .join('\n');
}

/** `const NAME: u32 = value;` */
export function wgslConstant(name: string, value: number): string {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`WGSL constant ${name}: ${value} is not a u32`);
  return `const ${name}: u32 = ${value}u;`;
}

/** `const NAME: f32 = value;` (exactly representable decimal text for a finite f32). */
export function wgslF32Constant(name: string, value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`WGSL constant ${name}: ${value} is not finite`);
  const text = Math.fround(value).toExponential();
  return `const ${name}: f32 = ${text};`;
}

/** camelCase or kebab-case → UPPER_SNAKE. */
export function constantName(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase();
}

/** The generated head of a shader: a marker line, then the declarations. */
export function wgslPreamble(...declarations: string[]): string {
  return ['// --- generated from src/core and src/kernels (TypeScript); do not edit in the .wgsl files ---', ...declarations, '// --- end of generated declarations ---'].join(
    '\n',
  );
}
