// GOV.UK Frontend components (error summary focus, service navigation toggle, ...).
import { initAll } from "./vendor/govuk/govuk-frontend.min.js";

initAll();
