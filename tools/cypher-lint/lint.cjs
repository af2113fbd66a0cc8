// Lints Cypher statements with Neo4j's own language support (@neo4j-cypher/language-support).
// Input on stdin: a JSON list of statements. The schema is the package's catalogue of
// Neo4j 5 procedures and functions, so a call Neo4j does not have is an error; every
// $parameter a statement uses is declared. Output: JSON {checked, failures}; exit 1 on errors.
const { lintCypherQuery, testData } = require("@neo4j-cypher/language-support");

const catalogue = testData.mockSchema;
let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const statements = JSON.parse(input);
  const failures = [];
  for (const statement of statements) {
    const parameters = {};
    for (const match of statement.matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g)) {
      parameters[match[1]] = null;
    }
    const schema = {
      procedures: catalogue.procedures,
      functions: catalogue.functions,
      parameters,
    };
    const { diagnostics } = lintCypherQuery(statement, schema);
    const errors = diagnostics.filter((d) => d.severity === 1);
    if (errors.length > 0) {
      failures.push({ statement, diagnostics: errors.map((d) => d.message) });
    }
  }
  process.stdout.write(JSON.stringify({ checked: statements.length, failures }, null, 1) + "\n");
  process.exit(failures.length > 0 ? 1 : 0);
});
