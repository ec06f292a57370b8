// The package's ES module entry point: the CommonJS one's exports, by name.
import binding from './tarif.cjs'

export const { BatchJob, Engine, EngineHandle, TarifError, errorCodes, runCli, __napiBindingTarget } = binding
export default binding
