/**
 * The WebAssembly JavaScript API as topdown uses it. Node has it as a global, but @types/node does not
 * declare it (the DOM library does, and topdown does not load that library).
 */
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- the WebAssembly API is a namespace
  namespace WebAssembly {
    interface MemoryDescriptor {
      initial: number;
      maximum?: number;
      shared?: boolean;
    }
    class Memory {
      constructor(descriptor: MemoryDescriptor);
      readonly buffer: ArrayBuffer | SharedArrayBuffer;
      grow(delta: number): number;
    }
    class Module {
      constructor(bytes: ArrayBufferView | ArrayBuffer);
      static exports(module: Module): { name: string; kind: string }[];
      static imports(module: Module): { module: string; name: string; kind: string }[];
    }
    class Instance {
      constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
      readonly exports: Record<string, unknown>;
    }
    function validate(bytes: ArrayBufferView | ArrayBuffer): boolean;
    function compile(bytes: ArrayBufferView | ArrayBuffer): Promise<Module>;
  }
}

export {};
