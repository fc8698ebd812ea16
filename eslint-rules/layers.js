// A local ESLint rule for the layer allow-list in eslint.config.js (the way VS
// Code checks its layers): every relative import in src/ is resolved to the
// layer it lands in, and an import into a layer the importing one does not
// name fails with the reason. Packages (node:, npm) are not layers.
import path from 'node:path'

/** The layer of a file: `main/<folder>`, `main/<root file>` or `<folder>` under src/. */
export function layerOf(file, srcDir) {
  const r = path.relative(srcDir, file)
  if (r.startsWith('..') || path.isAbsolute(r)) return undefined
  const rel = r.split(path.sep)
  if (rel[0] !== 'main') return rel.length > 1 ? rel[0] : undefined
  if (rel.length === 2) return `main/${rel[1].replace(/\.[^.]+$/, '')}`
  return `main/${rel[1]}`
}

export const layersRule = {
  meta: {
    type: 'problem',
    docs: { description: 'Each layer of src/ imports only the layers it names.' },
    schema: [{ type: 'object', additionalProperties: true }]
  },
  create(context) {
    const { srcDir, layers } = context.options[0]
    const from = layerOf(context.filename, srcDir)
    if (!from) return {}
    const own = layers[from]
    const check = (node) => {
      const spec = node.source?.value
      if (typeof spec !== 'string' || !spec.startsWith('.')) return
      const to = layerOf(path.resolve(path.dirname(context.filename), spec), srcDir)
      if (!to || to === from || own?.may.includes(to)) return
      const message = own
        ? `src/${from} may not import src/${to}: ${own.why}. It may import: ${own.may.join(', ') || 'nothing else in src'}.`
        : `src/${from} is not in the layer table of eslint.config.js: add it, naming what it may import.`
      context.report({ node: node.source, message })
    }
    return {
      ImportDeclaration: check,
      ImportExpression: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check
    }
  }
}
