import DefaultTheme from 'vitepress/theme';
import type { Theme } from 'vitepress';
import WakeupViz from './components/WakeupViz.vue';
import BenchChart from './components/BenchChart.vue';
import ServerBench from './components/ServerBench.vue';
import CostTable from './components/CostTable.vue';
import CostModelChart from './components/CostModelChart.vue';
import Cost from './components/Cost.vue';
import './custom.css';

const theme: Theme = {
  extends: DefaultTheme,
  enhanceApp({ app }) {
    app.component('WakeupViz', WakeupViz);
    app.component('BenchChart', BenchChart);
    app.component('ServerBench', ServerBench);
    app.component('CostTable', CostTable);
    app.component('CostModelChart', CostModelChart);
    app.component('Cost', Cost);
  },
};

export default theme;
